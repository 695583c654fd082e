// Runs a command locally, unchanged, with the launcher's own stdio; resolves to its exit code or the signal that killed it.
import { constants } from 'node:os';

/** How a launcher ends: an exit code, or the signal its command died of (the launcher then dies of it too). */
export type LauncherExit = number | NodeJS.Signals;

export async function runLocal(command: readonly string[]): Promise<LauncherExit> {
  const { spawn } = process.getBuiltinModule('node:child_process');
  return new Promise((resolve) => {
    const child = spawn(command[0] ?? '', command.slice(1), { stdio: 'inherit' });
    child.on('error', (err) => {
      process.stderr.write(`distbuild: cannot run ${command[0] ?? ''}: ${err.message}\n`);
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(signal ?? code ?? 1));
  });
}

/** Ends this process as `exit` says: with the code, or by the same signal (128 + its number if that is caught). */
export function exitAs(exit: LauncherExit): void {
  if (typeof exit === 'number') {
    process.exitCode = exit;
    return;
  }
  process.exitCode = 128 + (constants.signals[exit] ?? 1);
  process.kill(process.pid, exit);
}
