// Entry point: dispatches to the launcher's lean path or to the full CLI, and returns an exit code.
import { constants } from 'node:os';
import { launcherMode } from '../protocol/agent-frames.js';

/** Runs `distbuild` with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  if (launcherMode(argv) !== undefined) {
    // The hot path: no yargs, no grpc. (bin/distbuild.cjs takes it without this module.)
    const { runLauncher } = await import('../launcher/launcher.js');
    const exit = await runLauncher(argv);
    return typeof exit === 'number' ? exit : 128 + (constants.signals[exit] ?? 1);
  }
  const { runCli } = await import('./cli.js');
  return runCli(argv);
}
