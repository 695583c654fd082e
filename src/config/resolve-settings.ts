// Merges flags > DISTBUILD_* env > TOML file > defaults into validated Settings.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseDuration } from '../common/duration.js';
import { ConfigError } from './config-error.js';
import { OPTION_SPECS, envName, fileKey, flagName, type OptionSpec } from './options.js';
import type { LogLevel, RawSource, Settings } from './settings.js';

/** The config files read when no --config is given, later ones overriding earlier ones. */
export function defaultConfigPaths(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME ?? os.homedir();
  const xdg = env.XDG_CONFIG_HOME ?? path.join(home, '.config');
  return ['/etc/distbuild/distbuild.toml', path.join(xdg, 'distbuild', 'distbuild.toml')];
}

/** Reads raw values from flags already split into camelCase key → value. */
export function flagSource(flags: ReadonlyMap<string, unknown>): RawSource {
  return { label: (key) => `--${flagName(key)}`, values: flags };
}

/** Reads raw values from DISTBUILD_* variables. Unknown DISTBUILD_* names are ignored. */
export function envSource(env: NodeJS.ProcessEnv): RawSource {
  const values = new Map<string, unknown>();
  for (const spec of OPTION_SPECS) {
    const value = env[envName(spec.key)];
    if (value !== undefined && value !== '') values.set(spec.key, value);
  }
  return { label: (key) => envName(key), values };
}

/** Parses one TOML file's text; unknown keys are errors naming the key and the file. */
export async function fileSource(file: string, text: string): Promise<RawSource> {
  // A require, not import(): the launcher bundle runs as a vm.Script, which has no dynamic import.
  const toml = createRequire(import.meta.url)('toml') as { parse(text: string): unknown };
  let data: unknown;
  try {
    data = toml.parse(text);
  } catch (err) {
    const e = err as { message?: string; line?: number; column?: number };
    throw new ConfigError(`${file}:${e.line ?? '?'}:${e.column ?? '?'}: invalid TOML: ${e.message ?? String(err)}`);
  }
  const values = new Map<string, unknown>();
  for (const [name, value] of Object.entries(data as Record<string, unknown>)) {
    const spec = OPTION_SPECS.find((s) => fileKey(s.key) === name && s.inFile !== false);
    if (spec === undefined) {
      throw new ConfigError(`${file}: unknown key "${name}"${suggest(name)}; see "distbuild --help" or README.md for the keys`);
    }
    values.set(spec.key, value);
  }
  return { label: (key) => `${file}: ${fileKey(key)}`, values };
}

/** Reads the TOML config files that exist: the --config one (which must exist), or the defaults. */
export async function readConfigFiles(explicit: string | undefined, env: NodeJS.ProcessEnv): Promise<RawSource[]> {
  const sources: RawSource[] = [];
  for (const file of explicit !== undefined ? [explicit] : defaultConfigPaths(env)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (explicit === undefined && (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`, 'config');
    }
    sources.push(await fileSource(file, text));
  }
  return sources;
}

/**
 * Validates the merged sources (first source wins) into Settings. With `secrets: false`
 * (launchers, which never talk to the server) token_file is not read and `tokens` is empty.
 */
export function resolveSettings(sources: readonly RawSource[], env: NodeJS.ProcessEnv = process.env, { secrets = true } = {}): Settings {
  const out: Record<string, unknown> = {};
  for (const spec of OPTION_SPECS) {
    const source = sources.find((s) => s.values.has(spec.key));
    out[spec.key] = source === undefined ? spec.default : coerce(spec, source.values.get(spec.key), source.label(spec.key));
  }
  const duration = (key: string): number => {
    const v = out[key];
    return typeof v === 'number' ? v : (parseDuration(String(v)) ?? 0);
  };
  return {
    config: out.config as string | undefined,
    serverAddr: out.serverAddr as string | undefined,
    mdns: out.mdns as boolean,
    discoveryTimeoutMs: duration('discoveryTimeout'),
    fsMount: path.resolve(out.fsMount as string),
    logLevel: out.logLevel as LogLevel,
    listen: out.listen as string,
    httpPort: out.httpPort as number | undefined,
    httpHost: out.httpHost as string,
    maxJobs: (out.maxJobs as number | undefined) ?? Math.max(1, os.availableParallelism()),
    disableLinking: out.disableLinking as boolean,
    name: (out.name as string | undefined) ?? os.hostname(),
    verbose: out.verbose as boolean,
    json: out.json as boolean,
    watch: out.watch as boolean,
    agentSocket: (out.agentSocket as string | undefined) ?? defaultAgentSocket(env),
    agentIdleTimeoutMs: duration('agentIdleTimeout'),
    jobTimeoutMs: duration('jobTimeout'),
    outputWaitTimeoutMs: duration('outputWaitTimeout'),
    connectTimeoutMs: duration('connectTimeout'),
    envAllowlist: out.envAllowlist as string[],
    compilerAllowlist: out.compilerAllowlist as string[],
    allowFlags: out.allowFlags as string[],
    maxOutputBytes: out.maxOutputBytes as number,
    allowRoot: out.allowRoot as boolean,
    tokens: secrets ? readTokens(out.token as string | undefined, out.tokenFile as string | undefined) : [],
    tokenFile: out.tokenFile as string | undefined,
    insecure: out.insecure as boolean,
    tls: { cert: out.tlsCert as string | undefined, key: out.tlsKey as string | undefined, ca: out.tlsCa as string | undefined },
    maxMessageBytes: out.maxMessageBytes as number,
    maxJobArgs: out.maxJobArgs as number,
    maxArgBytes: out.maxArgBytes as number,
    maxJobsPerClient: out.maxJobsPerClient as number,
    genCertsSan: out.genCertsSan as string[],
    queueTimeoutMs: duration('queueTimeout'),
    maxAttempts: out.maxAttempts as number,
    batchSize: out.batchSize as number,
    batchTimeoutMs: duration('batchTimeout'),
    localityMaxDelayMs: duration('localityMaxDelay'),
    maxDirsTracked: out.maxDirsTracked as number,
    dirReportIntervalMs: duration('dirReportInterval'),
    leaseTimeoutMs: duration('leaseTimeout'),
    fallback: out.fallback as boolean,
    reconnectTimeoutMs: duration('reconnectTimeout'),
  };
}

/** The token setting plus every non-empty line of the token file. */
function readTokens(token: string | undefined, file: string | undefined): string[] {
  const tokens = token !== undefined ? [token] : [];
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read token_file ${file}: ${(err as Error).message}`, 'tokenFile');
    }
    for (const line of text.split('\n')) if (line.trim() !== '' && !line.trim().startsWith('#')) tokens.push(line.trim());
    if (tokens.length === 0) throw new ConfigError(`token_file ${file} holds no token`, 'tokenFile');
  }
  return tokens;
}

/** The per-user agent socket path. */
export function defaultAgentSocket(env: NodeJS.ProcessEnv): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime !== undefined && runtime !== '') return path.join(runtime, 'distbuild', 'agent.sock');
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return path.join(os.tmpdir(), `distbuild-${uid}`, 'agent.sock');
}

function coerce(spec: OptionSpec, raw: unknown, where: string): unknown {
  const bad = (expected: string): never => {
    throw new ConfigError(`${where}: ${JSON.stringify(raw)} is not ${expected}`, spec.key);
  };
  switch (spec.type) {
    case 'string': {
      if (typeof raw !== 'string' || raw === '') return bad('a non-empty string');
      if (spec.choices !== undefined && !spec.choices.includes(raw)) return bad(`one of ${spec.choices.join(', ')}`);
      return raw;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(s)) return true;
      if (['false', '0', 'no', 'off'].includes(s)) return false;
      return bad('a boolean (true or false)');
    }
    case 'integer': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n)) return bad('an integer');
      if (spec.min !== undefined && n < spec.min) return bad(`an integer >= ${spec.min}`);
      return n;
    }
    case 'duration': {
      const ms = typeof raw === 'string' ? parseDuration(raw) : undefined;
      if (ms === undefined) return bad('a duration with a unit, such as "500ms", "30s" or "5m"');
      if (spec.min !== undefined && ms < spec.min) return bad(`a duration of at least ${spec.min}ms`);
      return ms;
    }
    case 'list': {
      if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return raw;
      if (typeof raw === 'string') return raw.split(',').map((x) => x.trim()).filter((x) => x !== '');
      return bad('a list of strings');
    }
  }
}

function suggest(name: string): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const spec of OPTION_SPECS) {
    const candidate = fileKey(spec.key);
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
