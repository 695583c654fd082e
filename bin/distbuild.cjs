#!/usr/bin/env node
// The distbuild command on Node: a CommonJS shim. Launchers load one small bundle (the Node
// client of the agent: no ESM loader, no grpc, no yargs), compiled from its V8 code cache; every
// other mode loads the full CLI. The native client (native/distbuild-client.c) runs this file for
// every mode but the launchers.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { createRequire } = require('node:module');

const BUNDLE = path.join(__dirname, '..', 'dist', 'launcher.cjs');
const SUBCOMMANDS = new Set(['cache', 'make', 'ninja', 'workers', 'clients', 'jobs', 'job', 'scheduler', 'shell']);

/**
 * Loads the launcher bundle as CommonJS, compiled from `BUNDLE.cache` when V8 accepts it
 * (same source, same V8 and flags; otherwise it is compiled as usual). Returns its exports
 * and the script, from which the build makes that cache.
 */
function loadLauncher(bundle = BUNDLE) {
  const source = fs.readFileSync(bundle, 'utf8');
  let cachedData;
  try {
    cachedData = fs.readFileSync(`${bundle}.cache`);
  } catch {
    cachedData = undefined; // no cache (e.g. during the build that makes it)
  }
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapper, { filename: bundle, cachedData });
  const mod = { exports: {} };
  script.runInThisContext().call(mod.exports, mod.exports, createRequire(bundle), mod, bundle, path.dirname(bundle));
  return { exports: mod.exports, script };
}

/** Compilers, archivers and their versioned and cross names: what a masquerade directory holds. */
function isToolName(b) {
  return /gcc|g\+\+|clang|ranlib/.test(b) || b === 'cc' || b === 'c++' || b === 'ar' || b.endsWith('-ar');
}

/** PATH without the directories in which `name` is this very script. */
function withoutSelf(searchPath, name) {
  const self = fs.realpathSync(__filename);
  const isSelf = (dir) => {
    try {
      return dir !== '' && fs.realpathSync(path.join(dir, name)) === self;
    } catch (err) {
      if (err && typeof err.code === 'string') return false; // not there: a directory to keep
      throw err;
    }
  };
  return searchPath.split(':').filter((dir) => !isSelf(dir)).join(':');
}

function main() {
  // Masquerade: run as gcc (a link `distbuild --masquerade DIR` wrote) is `distbuild gcc`, with the real gcc on PATH.
  const name = path.basename(process.argv[1] || '');
  const masquerade = !name.startsWith('distbuild') && isToolName(name);
  if (masquerade) process.env.PATH = withoutSelf(process.env.PATH || '', name);
  const given = masquerade ? [name, ...process.argv.slice(2)] : process.argv.slice(2);
  // Drop-in use, as sccache's: `distbuild gcc -c a.c -o a.o` is `distbuild --compiler -- gcc …`.
  // distbuild's own subcommands (`distbuild cache stats`) are not compilers.
  const dropIn = given.length > 0 && given[0] !== '' && !given[0].startsWith('-') && !SUBCOMMANDS.has(given[0]);
  const argv = dropIn ? ['--compiler', '--', ...given] : given;
  const sep = argv.indexOf('--');
  const own = sep >= 0 ? argv.slice(0, sep) : argv;
  const launcher = own.includes('--compiler') || own.includes('--linker');
  // bin/distbuild-launch set NODE_EXTRA_CA_CERTS aside so that this Node need not parse those
  // certificates; what the launcher runs (the command, the agent) gets it back.
  const saved = process.env.DISTBUILD_NODE_EXTRA_CA_CERTS;
  if (saved !== undefined) {
    process.env.NODE_EXTRA_CA_CERTS = saved;
    delete process.env.DISTBUILD_NODE_EXTRA_CA_CERTS;
  }
  const bundle = launcher ? loadLauncher().exports : undefined;
  const run = bundle !== undefined ? bundle.runLauncher(argv) : import('../dist/src/cli/main.js').then((cli) => cli.main(argv));
  run.then(
    (exit) => {
      // A launcher whose command died of a signal dies of it too.
      if (bundle !== undefined) bundle.exitAs(exit);
      else process.exitCode = exit;
    },
    (err) => {
      process.stderr.write(`distbuild: internal error: ${err && err.stack ? err.stack : String(err)}\n`);
      process.exitCode = 70;
    },
  );
}

if (require.main === module) main();
module.exports = { loadLauncher };
