#!/usr/bin/env node
// The distbuild command: a CommonJS shim. Launchers load one small bundle (no ESM loader,
// no grpc, no yargs); every other mode loads the full CLI. Both return the exit code.
'use strict';
const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const own = sep >= 0 ? argv.slice(0, sep) : argv;
const run =
  own.includes('--compiler') || own.includes('--linker')
    ? require('../dist/launcher.cjs').runLauncher(argv)
    : import('../dist/src/cli/main.js').then((cli) => cli.main(argv));
run.then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`distbuild: internal error: ${err && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 70;
  },
);
