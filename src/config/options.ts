// The one table of settings: flag, env var, TOML key, type, default and meaning.
//
// Keyed by the camelCase name, from which the flag (--fs-mount), the variable
// (DISTBUILD_FS_MOUNT) and the TOML key (fs_mount) follow. The types below derive from it, so
// a setting read under a name the table lacks, or as the wrong type, does not compile.
// Dependency-free on purpose.

/** Which role reads a setting. */
export type Role = 'server' | 'worker' | 'launcher' | 'agent' | 'status' | 'gen-certs' | 'all';

/** How a setting's raw value is read. Durations are strings with a unit: "500ms", "30s", "5m". */
export type OptionType = 'string' | 'integer' | 'boolean' | 'duration' | 'list';

export interface OptionSpec {
  readonly type: OptionType;
  /** Default as the user would write it (a duration as "30s"), read like any other source; undefined: none, or computed at run time. */
  readonly default: string | number | boolean | readonly string[] | undefined;
  readonly roles: readonly Role[];
  readonly description: string;
  /** False for settings that only make sense per invocation (e.g. --config itself). */
  readonly inFile?: boolean;
  /** False for secrets: a command-line flag would show in `ps`. */
  readonly asFlag?: boolean;
  /** Lowest accepted value of an integer or duration (ms). */
  readonly min?: number;
  readonly choices?: readonly string[];
}

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;

export const OPTIONS = {
  config: { type: 'string', default: undefined, roles: ['all'], inFile: false,
    description: 'Read settings from this TOML file instead of /etc/distbuild/distbuild.toml and ~/.config/distbuild/distbuild.toml.' },
  serverAddr: { type: 'string', default: undefined, roles: ['worker', 'launcher', 'agent', 'status'],
    description: 'HOST:PORT of the distbuild server (default: the one found on the LAN by mDNS, see mdns; else 127.0.0.1:50051).' },
  mdns: { type: 'boolean', default: true, roles: ['server', 'worker', 'launcher', 'agent', 'status'],
    description: 'Zero-config discovery: a server listening beyond loopback announces itself as _distbuild._tcp, and workers, agents and --status without server_addr look for it. false: neither.' },
  discoveryTimeout: { type: 'duration', default: '1500ms', roles: ['worker', 'launcher', 'agent', 'status'], min: 100,
    description: 'How long to look for a server on the LAN (mDNS) when server_addr is not set, before trying 127.0.0.1:50051.' },
  fsMount: { type: 'string', default: '/mnt/shared', roles: ['worker', 'launcher'],
    description: "This host's path to the shared filesystem. Launchers and workers may mount it at different paths." },
  logLevel: { type: 'string', default: 'info', roles: ['all'], choices: LOG_LEVELS,
    description: 'Log level: error, warn, info or debug. Launchers print nothing of their own unless something is wrong.' },
  listen: { type: 'string', default: '127.0.0.1:50051', roles: ['server'],
    description: 'HOST:PORT the server listens on; port 0 picks a free port (printed at start-up).' },
  httpPort: { type: 'integer', default: undefined, roles: ['server', 'worker'], min: 0,
    description: 'Serve Prometheus /metrics (and, on the server, the web dashboard at /) over HTTP on this port (0: any free port, printed at start-up); off unless set.' },
  httpHost: { type: 'string', default: '127.0.0.1', roles: ['server', 'worker'],
    description: 'Address the HTTP endpoint (/metrics, dashboard) binds to; localhost unless you expose it on purpose.' },
  maxJobs: { type: 'integer', default: undefined, roles: ['worker'], min: 1,
    description: 'Jobs a worker runs at once (default: its number of CPUs).' },
  disableLinking: { type: 'boolean', default: false, roles: ['worker'],
    description: 'The worker takes compiles only, no links.' },
  name: { type: 'string', default: undefined, roles: ['worker'],
    description: "The worker's name in status and logs (default: the host name)." },
  verbose: { type: 'boolean', default: false, roles: ['launcher'],
    description: 'Launchers print one line per job: where it ran, or why it ran locally.' },
  json: { type: 'boolean', default: false, roles: ['status'], inFile: false,
    description: '--status prints JSON instead of text.' },
  watch: { type: 'boolean', default: false, roles: ['status'], inFile: false,
    description: '--status refreshes in place every second until interrupted.' },
  agentSocket: { type: 'string', default: undefined, roles: ['launcher', 'agent'], inFile: false,
    description: "Unix socket of the per-user agent (default: $XDG_RUNTIME_DIR/distbuild/agent.sock, else $TMPDIR/distbuild-$UID/agent.sock); not read from files, since clients find the agent before settings are read." },
  agentIdleTimeout: { type: 'duration', default: '10m', roles: ['agent'], min: 1000,
    description: 'The agent exits after this long without jobs.' },
  jobTimeout: { type: 'duration', default: '10m', roles: ['server', 'worker'], min: 1000,
    description: 'A command that runs longer is killed with its whole process group.' },
  outputWaitTimeout: { type: 'duration', default: '30s', roles: ['launcher'], min: 0,
    description: "How long a launcher waits for the worker's outputs to become visible at their reported size on its own mount." },
  connectTimeout: { type: 'duration', default: '5s', roles: ['launcher', 'agent', 'worker', 'status'], min: 100,
    description: 'How long to wait for the server to answer before giving up (launchers then build locally).' },
  queueTimeout: { type: 'duration', default: '5m', roles: ['server'], min: 1000,
    description: 'A job that no worker has taken after this long fails (launchers then build it locally).' },
  maxAttempts: { type: 'integer', default: 3, roles: ['server'], min: 1,
    description: 'Attempts per job when workers are lost or commands are killed; a compile error is never retried.' },
  batchSize: { type: 'integer', default: 32, roles: ['agent'], min: 1,
    description: 'Most jobs the agent sends in one submission.' },
  batchTimeout: { type: 'duration', default: '5ms', roles: ['agent'], min: 0,
    description: 'Longest a job waits for its batch to fill when the last batch left less than this long ago; a lone job is sent at once.' },
  leaseTimeout: { type: 'duration', default: '30s', roles: ['server'], min: 200,
    description: 'A worker renews the lease of each running job at half this; a job whose lease runs out is given to another worker.' },
  fallback: { type: 'boolean', default: true, roles: ['launcher'],
    description: 'Build locally when the farm cannot (server unreachable, no eligible worker, attempts used up); --no-fallback fails with the reason instead.' },
  reconnectTimeout: { type: 'duration', default: '60s', roles: ['agent'], min: 0,
    description: 'How long the agent keeps resubmitting jobs after losing the server mid-build (e.g. a server restart) before the launchers build locally.' },
  localityMaxDelay: { type: 'duration', default: '200ms', roles: ['server'], min: 0,
    description: 'Longest a queued job is passed over by free workers that take jobs in their warm directories first; a free slot never idles while jobs wait.' },
  maxDirsTracked: { type: 'integer', default: 100, roles: ['worker'], min: 1,
    description: 'Directories a worker remembers having worked in, most recent first, for locality-aware placement.' },
  dirReportInterval: { type: 'duration', default: '5m', roles: ['worker'], min: 1000,
    description: 'How often a worker reports its full directory set (changes are also sent as deltas as they happen).' },
  token: { type: 'string', default: undefined, roles: ['server', 'worker', 'agent', 'status'], asFlag: false,
    description: 'Shared secret sent (and, on the server, required) with every RPC. Never a flag: set DISTBUILD_TOKEN, token in the config file, or token_file.' },
  tokenFile: { type: 'string', default: undefined, roles: ['server', 'worker', 'agent', 'status'],
    description: 'File of tokens, one per line: the server accepts any of them, clients send the first.' },
  workerToken: { type: 'string', default: undefined, roles: ['server', 'worker'], asFlag: false,
    description: "The workers' own secret. On the server: worker registration (the Work stream) then accepts only worker tokens, and worker tokens nothing else, so a client's token cannot register a worker. On a worker: sent instead of token. Never a flag: DISTBUILD_WORKER_TOKEN, worker_token in a config file, or worker_token_file." },
  workerTokenFile: { type: 'string', default: undefined, roles: ['server', 'worker'],
    description: 'File of worker tokens, one per line (as token_file).' },
  insecure: { type: 'boolean', default: false, roles: ['server'],
    description: 'Let the server listen on a non-loopback address without a token (it warns). Only for trusted, isolated networks.' },
  tlsCert: { type: 'string', default: undefined, roles: ['server', 'worker', 'agent', 'status'],
    description: "PEM certificate this process presents: the server's own, or a client's for mTLS. With tls_key, the server serves TLS; a client with tls_cert or tls_ca connects over TLS." },
  tlsKey: { type: 'string', default: undefined, roles: ['server', 'worker', 'agent', 'status'],
    description: 'PEM private key of tls_cert (keep it readable only by its owner).' },
  tlsCa: { type: 'string', default: undefined, roles: ['server', 'worker', 'agent', 'status'],
    description: "PEM CA certificate(s). On the server: clients must present a certificate it signed (mTLS). On clients: the server's certificate is verified against it (default: the system's roots)." },
  maxMessageBytes: { type: 'integer', default: 16 * 1024 * 1024, roles: ['server', 'worker', 'agent', 'status'], min: 64 * 1024,
    description: 'Largest gRPC message received; a larger one fails its call with RESOURCE_EXHAUSTED.' },
  maxJobArgs: { type: 'integer', default: 16384, roles: ['server', 'worker'], min: 16,
    description: "Most arguments in a job's command line (response files included on the worker); more is refused as an invalid job." },
  maxArgBytes: { type: 'integer', default: 128 * 1024, roles: ['server', 'worker'], min: 1024,
    description: "Longest single argument of a job's command line, in bytes (Linux's own limit is 128 KiB); longer is refused as an invalid job." },
  maxJobsPerClient: { type: 'integer', default: 1000, roles: ['server'], min: 1,
    description: 'Jobs in flight at once per client address; a submission beyond it is refused with RESOURCE_EXHAUSTED and its launchers build locally.' },
  genCertsSan: { type: 'list', default: [], roles: ['gen-certs'], inFile: false,
    description: "--gen-certs: extra host names or IP addresses for the server certificate, beyond localhost, 127.0.0.1, ::1 and this host's name." },
  compilerAllowlist: { type: 'list', default: [], roles: ['worker'],
    description: 'Executables a worker runs, by name on its PATH or absolute path, matched after resolving symlinks (default: the gcc, g++, cc, c++, clang, clang++, ar and ranlib it finds at start-up).' },
  maxOutputBytes: { type: 'integer', default: 16 * 1024 * 1024, roles: ['worker'], min: 1024,
    description: "Cap on each of a job's captured stdout and stderr; beyond it the output is dropped and a note says so." },
  allowRoot: { type: 'boolean', default: false, roles: ['worker'],
    description: 'Let a worker run as root (it refuses by default: jobs would run as root on the shared tree).' },
  allowFlags: { type: 'list', default: [], roles: ['launcher', 'worker'],
    description: "Options accepted although they load code (-fplugin, -specs, -B, -wrapper, -Wl,-plugin…) or are not in the flag table, named as a refusal names them. On a worker: it runs them. On a launcher: jobs with them go to the farm instead of building locally." },
  allowMountExecutables: { type: 'boolean', default: false, roles: ['worker'],
    description: 'Keep allowlisted executables whose real path is on the shared mount (left out by default: anyone who can write the mount could replace them).' },
  envAllowlist: { type: 'list', default: [], roles: ['launcher', 'worker'],
    description: 'Extra environment variables passed to remote jobs, beyond the built-in list (LANG, LC_*, SOURCE_DATE_EPOCH, CPATH…).' },
  cache: { type: 'string', default: 'true', roles: ['launcher', 'worker'], choices: ['true', 'false', 'read-only'],
    description: 'The result cache on the shared mount (cache_dir). Launchers look results up there (true or read-only) and never write; workers store the results of the compiles they run (true only). false: neither.' },
  cacheDir: { type: 'string', default: undefined, roles: ['launcher', 'worker', 'server'],
    description: "The result cache's directory, shared by the team (default: <fs_mount>/.distbuild-cache). Each host names it by its own path." },
  cacheMaxSize: { type: 'string', default: '10G', roles: ['server', 'worker', 'launcher'],
    description: 'Size the janitor (the server, when it sees cache_dir, or `distbuild cache trim`) trims the cache to, least recently used first: bytes, or with a K, M or G suffix.' },
} as const satisfies Record<string, OptionSpec>;

/** The name of a setting. */
export type OptionKey = keyof typeof OPTIONS;

/** A setting's spec with its name. */
export type NamedOptionSpec = OptionSpec & { readonly key: OptionKey };

const isOptionKey = (key: string): key is OptionKey => Object.hasOwn(OPTIONS, key);

/** Every setting, in the table's order (for help, sources and suggestions). */
export const OPTION_SPECS: readonly NamedOptionSpec[] = Object.keys(OPTIONS)
  .filter(isOptionKey)
  .map((key) => ({ key, ...OPTIONS[key] }));

/** The settings of type `T`, with a default (`D` true) or without one. */
export type KeysOf<T extends OptionType, D extends boolean> = {
  [K in OptionKey]: (typeof OPTIONS)[K]['type'] extends T
    ? ((typeof OPTIONS)[K]['default'] extends undefined ? false : true) extends D
      ? K
      : never
    : never;
}[OptionKey];

export const MODES = ['server', 'worker', 'compiler', 'linker', 'agent', 'status', 'demo', 'gen-certs', 'masquerade'] as const;
export type Mode = (typeof MODES)[number];

/** "fsMount" → "fs-mount". */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** "fsMount" → "fs_mount". */
export function fileKey(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** "fsMount" → "DISTBUILD_FS_MOUNT". */
export function envName(key: string): string {
  return `DISTBUILD_${fileKey(key).toUpperCase()}`;
}

/** The spec of a setting by its camelCase name, if the table has it. */
export function findSpec(key: string): NamedOptionSpec | undefined {
  return isOptionKey(key) ? { key, ...OPTIONS[key] } : undefined;
}
