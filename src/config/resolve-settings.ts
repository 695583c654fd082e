// Merges flags > DISTBUILD_* env > TOML file > defaults into validated Settings, typed by the options table.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import toml from 'toml';
import { ConfigError } from './config-error.js';
import { LOG_LEVELS, OPTION_SPECS, envName, fileKey, flagName, type OptionKey } from './options.js';
import { createOptionReader } from './read-option.js';
import type { CacheMode, LogLevel, RawSource, Settings } from './settings.js';
import { defaultAgentSocket } from '../common/agent-socket.js';
import { errnoCode } from '../common/errno.js';

/** The config files read when no --config is given, later ones overriding earlier ones. */
export function defaultConfigPaths(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME ?? os.homedir();
  const xdg = env.XDG_CONFIG_HOME ?? path.join(home, '.config');
  return ['/etc/distbuild/distbuild.toml', path.join(xdg, 'distbuild', 'distbuild.toml')];
}

/** Reads raw values from flags already split into camelCase key → value. */
export function flagSource(flags: ReadonlyMap<OptionKey, unknown>): RawSource {
  return { label: (key) => `--${flagName(key)}`, values: flags };
}

/** Each setting with its variable's name. */
const ENV_NAMES = OPTION_SPECS.map((s) => [s.key, envName(s.key)] as const);
/** Each setting that files may hold, by its TOML key. */
const BY_FILE_KEY = new Map(OPTION_SPECS.filter((s) => s.inFile !== false).map((s) => [fileKey(s.key), s]));

/** Reads raw values from DISTBUILD_* variables. Unknown DISTBUILD_* names are ignored. */
export function envSource(env: NodeJS.ProcessEnv): RawSource {
  const values = new Map<OptionKey, unknown>();
  for (const [key, name] of ENV_NAMES) {
    const value = env[name];
    if (value !== undefined && value !== '') values.set(key, value);
  }
  return { label: (key) => envName(key), values };
}

/** Parses one TOML file's text; unknown keys are errors naming the key and the file. */
export async function fileSource(file: string, text: string): Promise<RawSource> {
  let data: unknown;
  try {
    data = toml.parse(text);
  } catch (err) {
    const at = (field: string): string => (typeof err === 'object' && err !== null && field in err ? String(Reflect.get(err, field)) : '?');
    throw new ConfigError(`${file}:${at('line')}:${at('column')}: invalid TOML: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof data !== 'object' || data === null) throw new ConfigError(`${file}: not a TOML table`);
  const values = new Map<OptionKey, unknown>();
  for (const [name, value] of Object.entries(data)) {
    const spec = BY_FILE_KEY.get(name);
    if (spec === undefined) {
      throw new ConfigError(`${file}: unknown key "${name}"${suggest(name)}; see "distbuild --help" or README.md for the keys`);
    }
    values.set(spec.key, value);
  }
  return { label: (key) => `${file}: ${fileKey(key)}`, values };
}

/** Reads the TOML config files that exist: the --config one (which must exist), or the defaults, the user's first. */
export async function readConfigFiles(explicit: string | undefined, env: NodeJS.ProcessEnv): Promise<RawSource[]> {
  const sources: RawSource[] = [];
  for (const file of explicit !== undefined ? [explicit] : defaultConfigPaths(env)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (explicit === undefined && errnoCode(err) === 'ENOENT') continue;
      throw new ConfigError(`cannot read config file ${file}: ${err instanceof Error ? err.message : String(err)}`, 'config');
    }
    sources.push(await fileSource(file, text));
  }
  // Later files override earlier ones (the user's over the system's), and the first source wins.
  return sources.reverse();
}

/** The log level of a validated log_level value (the table allows only these). */
function logLevel(value: string): LogLevel {
  const level = LOG_LEVELS.find((l) => l === value);
  if (level === undefined) throw new ConfigError(`log_level: "${value}" is not one of ${LOG_LEVELS.join(', ')}`, 'logLevel');
  return level;
}

const CACHE_MODES: readonly CacheMode[] = ['true', 'false', 'read-only'];

/** The cache mode of a validated cache value (the table allows only these). */
function cacheMode(value: string): CacheMode {
  const mode = CACHE_MODES.find((m) => m === value);
  if (mode === undefined) throw new ConfigError(`cache: "${value}" is not one of ${CACHE_MODES.join(', ')}`, 'cache');
  return mode;
}

/** "10G" → bytes; plain digits are bytes. */
export function parseSize(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$/i.exec(value);
  const unit = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[(m?.[2] ?? '').toUpperCase()];
  const bytes = m === null || unit === undefined ? Number.NaN : Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new ConfigError(`cache_max_size: "${value}" is not a size such as "500M" or "10G"`, 'cacheMaxSize');
  return bytes;
}

/**
 * Validates the merged sources (first source wins, then the table's defaults) into Settings. With
 * `secrets: false` token_file is not read and `tokens` is empty (the agent reads it through its cache).
 */
export function resolveSettings(sources: readonly RawSource[], env: NodeJS.ProcessEnv = process.env, { secrets = true } = {}): Settings {
  const r = createOptionReader(sources);
  const token = r.optionalString('token');
  const tokenFile = r.optionalString('tokenFile');
  const fsMount = path.resolve(r.string('fsMount'));
  return {
    config: r.optionalString('config'),
    serverAddr: r.optionalString('serverAddr'),
    mdns: r.boolean('mdns'),
    discoveryTimeoutMs: r.duration('discoveryTimeout'),
    fsMount,
    logLevel: logLevel(r.string('logLevel')),
    listen: r.string('listen'),
    httpPort: r.optionalInteger('httpPort'),
    httpHost: r.string('httpHost'),
    maxJobs: r.optionalInteger('maxJobs') ?? Math.max(1, os.availableParallelism()),
    disableLinking: r.boolean('disableLinking'),
    name: r.optionalString('name') ?? os.hostname(),
    verbose: r.boolean('verbose'),
    json: r.boolean('json'),
    watch: r.boolean('watch'),
    agentSocket: r.optionalString('agentSocket') ?? defaultAgentSocket(env),
    agentIdleTimeoutMs: r.duration('agentIdleTimeout'),
    jobTimeoutMs: r.duration('jobTimeout'),
    outputWaitTimeoutMs: r.duration('outputWaitTimeout'),
    connectTimeoutMs: r.duration('connectTimeout'),
    envAllowlist: r.list('envAllowlist'),
    compilerAllowlist: r.list('compilerAllowlist'),
    allowFlags: r.list('allowFlags'),
    maxOutputBytes: r.integer('maxOutputBytes'),
    allowRoot: r.boolean('allowRoot'),
    allowMountExecutables: r.boolean('allowMountExecutables'),
    token,
    tokens: secrets ? readTokens(token, tokenFile) : [],
    tokenFile,
    workerTokens: secrets ? readTokens(r.optionalString('workerToken'), r.optionalString('workerTokenFile'), 'workerTokenFile') : [],
    workerTokenFile: r.optionalString('workerTokenFile'),
    insecure: r.boolean('insecure'),
    tls: { cert: r.optionalString('tlsCert'), key: r.optionalString('tlsKey'), ca: r.optionalString('tlsCa') },
    maxMessageBytes: r.integer('maxMessageBytes'),
    maxJobArgs: r.integer('maxJobArgs'),
    maxArgBytes: r.integer('maxArgBytes'),
    maxJobsPerClient: r.integer('maxJobsPerClient'),
    genCertsSan: r.list('genCertsSan'),
    queueTimeoutMs: r.duration('queueTimeout'),
    maxAttempts: r.integer('maxAttempts'),
    batchSize: r.integer('batchSize'),
    batchTimeoutMs: r.duration('batchTimeout'),
    localityMaxDelayMs: r.duration('localityMaxDelay'),
    maxDirsTracked: r.integer('maxDirsTracked'),
    dirReportIntervalMs: r.duration('dirReportInterval'),
    leaseTimeoutMs: r.duration('leaseTimeout'),
    fallback: r.boolean('fallback'),
    reconnectTimeoutMs: r.duration('reconnectTimeout'),
    cache: cacheMode(r.string('cache')),
    cacheDir: path.resolve(r.optionalString('cacheDir') ?? path.join(fsMount, '.distbuild-cache')),
    cacheMaxSizeBytes: parseSize(r.string('cacheMaxSize')),
  };
}

/** The token setting plus every non-empty line of the token file's text. */
export function parseTokens(token: string | undefined, file: string, text: string, key: 'tokenFile' | 'workerTokenFile' = 'tokenFile'): string[] {
  const tokens = token !== undefined ? [token] : [];
  for (const line of text.split('\n')) if (line.trim() !== '' && !line.trim().startsWith('#')) tokens.push(line.trim());
  if (tokens.length === 0) throw new ConfigError(`${settingName(key)} ${file} holds no token`, key);
  return tokens;
}

const settingName = (key: 'tokenFile' | 'workerTokenFile'): string => fileKey(key);

/** The token setting plus every non-empty line of the token file. */
function readTokens(token: string | undefined, file: string | undefined, key: 'tokenFile' | 'workerTokenFile' = 'tokenFile'): string[] {
  if (file === undefined) return token !== undefined ? [token] : [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${settingName(key)} ${file}: ${err instanceof Error ? err.message : String(err)}`, key);
  }
  return parseTokens(token, file, text, key);
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
