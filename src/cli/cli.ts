// The full CLI (server, worker, agent, status, demo): yargs flags from the options table.
import yargs from 'yargs';
import { distbuildVersion } from '../common/version.js';
import { ConfigError } from '../config/config-error.js';
import { MODES, OPTION_SPECS, envName, fileKey, flagName, type Mode, type OptionKey } from '../config/options.js';
import { envSource, flagSource, readConfigFiles, resolveSettings } from '../config/resolve-settings.js';
import type { Settings } from '../config/settings.js';
import { isVerbWord } from './verbs.js';
import { isTool, type Tool } from './tool-command.js';

const MODE_HELP: Record<Mode, string> = {
  server: 'Run the server that places jobs on workers.',
  worker: 'Run a worker that runs jobs in place on its mount.',
  compiler: 'Launcher: run the compiler command after "--" on the farm.',
  linker: 'Launcher: run the link command after "--" on the farm.',
  agent: 'Run the per-user agent that launchers talk to (started on demand).',
  status: "Print the server's view of the farm.",
  demo: 'Start a server and two workers on loopback and build the sample project through them.',
  'gen-certs': 'Write a CA and server and client certificates and keys to the directory given (--gen-certs DIR), for TLS and mTLS.',
  masquerade: 'Write links named after the compilers and archivers on PATH into the directory given (--masquerade DIR), so that PATH=DIR:$PATH make sends each compile to the farm.',
};

/** A subcommand, with distbuild's own flags apart from the rest. */
type Subcommand =
  | { readonly kind: 'verb'; readonly words: readonly string[]; readonly flags: readonly string[] }
  | { readonly kind: 'tool'; readonly tool: Tool; readonly flags: readonly string[]; readonly toolArgs: readonly string[] };

/**
 * `distbuild workers list | jobs list | job status ID | scheduler status | cache VERB | shell
 * [--flag=value…]`, or `distbuild [--flag=value…] make|ninja ARGS…` (-v is --verbose).
 */
function subcommandOf(given: readonly string[]): Subcommand | undefined {
  if (isVerbWord(given[0])) return { kind: 'verb', words: given.filter((a) => !a.startsWith('-')), flags: given.filter((a) => a.startsWith('-')) };
  const at = given.findIndex((a) => isTool(a));
  if (at < 0 || !given.slice(0, at).every((a) => a.startsWith('-') && a !== '--')) return undefined;
  const tool = given[at];
  if (!isTool(tool)) return undefined;
  return { kind: 'tool', tool, flags: given.slice(0, at).map((a) => (a === '-v' ? '--verbose' : a)), toolArgs: given.slice(at + 1) };
}

export async function runCli(given: readonly string[]): Promise<number> {
  const sub = subcommandOf(given);
  const argv = sub !== undefined ? sub.flags : given;
  let parser = yargs([...argv])
    .scriptName('distbuild')
    .usage('distbuild --server | --worker | --status | --compiler -- CMD… | --linker -- CMD… | COMPILER ARGS… | make|ninja ARGS… | workers list | jobs list | job status ID | scheduler status | cache stats|trim|clear | shell | --masquerade DIR | --version [options]')
    .strict()
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .version(false)
    .help('help')
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .exitProcess(false)
    .fail((message, err) => {
      throw err ?? new ConfigError(message);
    });
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`distbuild ${distbuildVersion()}\n`);
    return 0;
  }
  const secret = argv.find((a) => a === '--token' || a.startsWith('--token='));
  if (secret !== undefined) {
    process.stderr.write('distbuild: --token is not accepted on the command line, where ps would show it: set DISTBUILD_TOKEN, token in the config file, or --token-file\n');
    return 2;
  }
  for (const mode of MODES) parser = parser.option(mode, { type: mode === 'gen-certs' || mode === 'masquerade' ? 'string' : 'boolean', describe: MODE_HELP[mode], group: 'Modes:' });
  for (const spec of OPTION_SPECS) {
    if (spec.asFlag === false) continue;
    const type = spec.type === 'boolean' ? 'boolean' : spec.type === 'integer' ? 'number' : 'string';
    const where = spec.inFile === false ? envName(spec.key) : `${envName(spec.key)}, ${fileKey(spec.key)}`;
    const dflt = spec.default === undefined ? '' : ` [default: ${JSON.stringify(spec.default)}]`;
    parser = parser.option(flagName(spec.key), { type, describe: `${spec.description} (${where})${dflt}`, group: 'Options:' });
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = (await parser.parseAsync()) as Record<string, unknown>;
  } catch (err) {
    process.stderr.write(`distbuild: ${(err as Error).message}\n`);
    return 2;
  }
  if (parsed.help === true) return 0;
  if (sub !== undefined) {
    const resolved = await settingsOrExit(parsed);
    if (typeof resolved === 'number') return resolved;
    if (sub.kind === 'tool') return (await import('./tool-command.js')).toolCommand(sub.tool, sub.toolArgs, resolved.settings, resolved.flags);
    if (sub.words[0] === 'shell') return (await import('./shell-command.js')).shellCommand(resolved.settings);
    const out = await (await import('./verbs.js')).runVerb(sub.words, resolved.settings);
    (out.code === 0 ? process.stdout : process.stderr).write(out.text);
    return out.code;
  }
  const modes = MODES.filter((m) => parsed[m] === true || ((m === 'gen-certs' || m === 'masquerade') && typeof parsed[m] === 'string'));
  if (modes.length !== 1) {
    process.stderr.write(`distbuild: choose exactly one of ${MODES.map((m) => `--${m}`).join(', ')}${modes.length > 1 ? ` (got ${modes.map((m) => `--${m}`).join(' ')})` : ''}; see --help\n`);
    return 2;
  }
  const mode = modes[0] as Mode;
  const certDir = parsed['gen-certs'];
  if (mode === 'gen-certs' && certDir === '') {
    process.stderr.write('distbuild: --gen-certs needs a directory: distbuild --gen-certs DIR\n');
    return 2;
  }

  const resolved = await settingsOrExit(parsed);
  if (typeof resolved === 'number') return resolved;
  const { settings, reload } = resolved;

  switch (mode) {
    case 'server':
      return (await import('./server-command.js')).serverCommand(settings, reload);
    case 'worker':
      return (await import('./worker-command.js')).workerCommand(settings, reload);
    case 'agent':
      return (await import('./agent-command.js')).agentCommand(settings);
    case 'status':
      return (await import('./status-command.js')).statusCommand(settings);
    case 'demo':
      return (await import('../demo/demo.js')).runDemo(settings);
    case 'gen-certs':
      return (await import('./gen-certs-command.js')).genCertsCommand(String(certDir), settings);
    case 'masquerade':
      return masqueradeCommand(parsed.masquerade);
    case 'compiler':
    case 'linker':
      process.stderr.write(`distbuild: --${mode} needs the command after "--"\n`);
      return 2;
  }
}

/** The settings of the parsed flags over env and files, with a reload for hot reload; or exit code 2 after saying what is wrong. */
async function settingsOrExit(parsed: Record<string, unknown>): Promise<{ settings: Settings; reload: () => Promise<Settings>; flags: ReadonlyMap<OptionKey, unknown> } | number> {
  try {
    const flags = new Map<OptionKey, unknown>();
    for (const spec of OPTION_SPECS) {
      if (spec.asFlag === false) continue;
      const v = parsed[flagName(spec.key)];
      if (v !== undefined) flags.set(spec.key, typeof v === 'number' ? String(v) : v);
    }
    const explicit = flags.get('config') ?? process.env.DISTBUILD_CONFIG;
    /** Settings read afresh (for hot reload): the same flags and env over the files as they are now. */
    const reload = async (): Promise<Settings> =>
      resolveSettings([flagSource(flags), envSource(process.env), ...(await readConfigFiles(typeof explicit === 'string' ? explicit : undefined, process.env))]);
    return { settings: await reload(), reload, flags };
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`distbuild: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

async function masqueradeCommand(dir: unknown): Promise<number> {
  if (typeof dir !== 'string' || dir === '') {
    process.stderr.write('distbuild: --masquerade needs a directory: distbuild --masquerade DIR, then PATH=DIR:$PATH make\n');
    return 2;
  }
  try {
    const names = await (await import('./masquerade.js')).writeMasquerade(dir);
    process.stdout.write(`distbuild: ${dir}: ${names.join(' ')}; run PATH=${dir}:$PATH make (or any build) to send their jobs to the farm\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    process.stderr.write(`distbuild: ${err.message}\n`);
    return 1;
  }
}
