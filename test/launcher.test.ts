// Launchers against a real farm, through the native client: compile errors are results, odd commands run locally, exits match.
import { existsSync } from 'node:fs';
import t from 'tap';
import { NATIVE_CLIENT } from './helpers/farm.js';
import { launcherSuite } from './helpers/launcher-suite.js';

t.ok(existsSync(NATIVE_CLIENT) || process.env.DISTBUILD_NO_NATIVE === '1', `the native client was built at install (${NATIVE_CLIENT})`);
if (existsSync(NATIVE_CLIENT)) await launcherSuite('native');
