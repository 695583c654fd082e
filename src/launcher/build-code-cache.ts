// Build step: writes dist/launcher.cjs.cache, the V8 code cache of the launcher bundle after a warm-up.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Script } from 'node:vm';

interface LauncherBundle {
  warmUp(): void;
}

const shim = createRequire(import.meta.url)('../../../bin/distbuild.cjs') as {
  loadLauncher(bundle?: string): { exports: LauncherBundle; script: Script };
};
const { exports: bundle, script } = shim.loadLauncher();
bundle.warmUp();
const data = script.createCachedData();
const out = createRequire(import.meta.url).resolve('../../../dist/launcher.cjs');
writeFileSync(`${out}.cache`, data);
console.log(`wrote ${out}.cache (${data.length} bytes)`);
