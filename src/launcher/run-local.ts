// Runs a command locally, unchanged, with the launcher's own stdio; resolves to its exit code.
import { constants } from 'node:os';

export async function runLocal(command: readonly string[]): Promise<number> {
  const { spawn } = process.getBuiltinModule('node:child_process');
  return new Promise((resolve) => {
    const child = spawn(command[0] ?? '', command.slice(1), { stdio: 'inherit' });
    child.on('error', (err) => {
      process.stderr.write(`distbuild: cannot run ${command[0] ?? ''}: ${err.message}\n`);
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      if (signal !== null) resolve(128 + (constants.signals[signal] ?? 1));
      else resolve(code ?? 1);
    });
  });
}
