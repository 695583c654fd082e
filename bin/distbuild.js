#!/usr/bin/env node
// The distbuild command: a shim over the compiled CLI, which returns the exit code.
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
