// Entry point: dispatches to the launcher's lean path or to the full CLI, and returns an exit code.

/** Runs `distbuild` with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const sep = argv.indexOf('--');
  const own = sep >= 0 ? argv.slice(0, sep) : argv;
  if (own.includes('--compiler') || own.includes('--linker')) {
    // The hot path: no yargs, no grpc.
    const { runLauncher } = await import('../launcher/launcher.js');
    return runLauncher(argv);
  }
  const { runCli } = await import('./cli.js');
  return runCli(argv);
}
