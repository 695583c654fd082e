// Build step: writes dist/launcher.cjs.cache, the V8 code cache of the launcher bundle after a warm-up.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import type { Script } from 'node:vm';

interface LauncherBundle {
  runLauncher(argv: readonly string[], io: { stdout: Writable; stderr: Writable; env: NodeJS.ProcessEnv; cwd: string }): Promise<number>;
  warmUp(): void;
}

const shim = createRequire(import.meta.url)('../../../bin/distbuild.cjs') as {
  loadLauncher(bundle?: string): { exports: LauncherBundle; script: Script };
};
const { exports: bundle, script } = shim.loadLauncher();
bundle.warmUp();
// Compiles runLauncher itself: a refused flag returns before any I/O.
const sink = new Writable({ write: (_chunk, _enc, done) => done() });
await bundle.runLauncher(['--compiler', '--no-such-flag', '--', 'true'], { stdout: sink, stderr: sink, env: {}, cwd: '/' });
const data = script.createCachedData();
const out = createRequire(import.meta.url).resolve('../../../dist/launcher.cjs');
writeFileSync(`${out}.cache`, data);
console.log(`wrote ${out}.cache (${data.length} bytes)`);
