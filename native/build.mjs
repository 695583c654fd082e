#!/usr/bin/env node
// Builds the native client (native/distbuild-client.c) with the host's C compiler, at install and by `npm run build`.
//
// Output: dist/native/distbuild. In an installed package (no .git next to package.json) it
// then replaces bin/distbuild, the sh fallback, so that the `distbuild` command is the client
// itself (as esbuild does with its binary). Without a C compiler it says so and leaves the
// Node launcher in place: nothing fails. Set DISTBUILD_NO_NATIVE=1 to skip it, CC to choose
// the compiler.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = path.join(root, 'native', 'distbuild-client.c');
const out = path.join(root, 'dist', 'native', 'distbuild');
const stampFile = `${out}.stamp`;
const say = (text) => process.stderr.write(`distbuild native client: ${text}\n`);

/** The first C compiler that answers: $CC, then cc, gcc, clang. */
function findCompiler() {
  const candidates = [process.env.CC, 'cc', 'gcc', 'clang'].filter((c) => c !== undefined && c !== '');
  for (const cc of candidates) {
    try {
      execFileSync(cc, ['--version'], { stdio: 'ignore', timeout: 20_000 });
      return cc;
    } catch (err) {
      if (err.code !== 'ENOENT') say(`${cc} is not usable: ${err.message.split('\n')[0]}`);
    }
  }
  return undefined;
}

function build() {
  if (process.env.DISTBUILD_NO_NATIVE === '1') {
    rmSync(out, { force: true });
    say('skipped (DISTBUILD_NO_NATIVE=1): launchers run on Node');
    return false;
  }
  const cc = findCompiler();
  if (cc === undefined) {
    rmSync(out, { force: true });
    say('no C compiler found ($CC, cc, gcc, clang): launchers run on Node, which costs ~20 ms of CPU per job. Install one and run `npm rebuild distbuild`');
    return false;
  }
  const args = [
    '-std=c11', '-O2', '-Wall', '-Wextra', '-fno-strict-aliasing',
    `-DDISTBUILD_NODE=${JSON.stringify(process.execPath)}`, `-DDISTBUILD_ROOT=${JSON.stringify(root.replace(/\/$/, ''))}`,
    '-o', `${out}.tmp`, source,
  ];
  const stamp = JSON.stringify({ cc, args, source: readFileSync(source, 'utf8') });
  if (existsSync(out) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return true;
  mkdirSync(path.dirname(out), { recursive: true });
  // Linked statically where the C library allows it: a job's client then skips the dynamic
  // loader (~0.1 ms of CPU here). Else as usual.
  let built = false;
  let lastError = '';
  for (const link of [['-static'], []]) {
    try {
      execFileSync(cc, [...args, ...link], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
      built = true;
      break;
    } catch (err) {
      lastError = String(err.stderr ?? err.message).trim().split('\n').slice(-3).join(' ');
    }
  }
  if (!built) {
    rmSync(`${out}.tmp`, { force: true });
    rmSync(out, { force: true });
    say(`${cc} could not build ${path.relative(root, source)} (${lastError}): launchers run on Node`);
    return false;
  }
  renameSync(`${out}.tmp`, out);
  writeFileSync(stampFile, stamp);
  say(`built ${path.relative(root, out)} with ${cc}`);
  return true;
}

/** In an installed package, the `distbuild` command becomes the client itself: no sh, no Node per job. */
function install() {
  if (existsSync(path.join(root, '.git'))) return; // a checkout: bin/distbuild is a tracked file, it stays the sh fallback
  const bin = path.join(root, 'bin', 'distbuild');
  copyFileSync(out, `${bin}.tmp`);
  chmodSync(`${bin}.tmp`, 0o755);
  renameSync(`${bin}.tmp`, bin);
  say('bin/distbuild is now the native client');
}

if (build()) install();
