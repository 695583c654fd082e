// Validated settings: the typed result of flags > env > TOML file > defaults.
import type { LOG_LEVELS, OptionKey } from './options.js';

/** Paths of the PEM files of tls_cert, tls_key and tls_ca; undefined where unset. */
export interface TlsFiles {
  readonly cert: string | undefined;
  readonly key: string | undefined;
  readonly ca: string | undefined;
}

export type LogLevel = (typeof LOG_LEVELS)[number];

/** Every setting, validated, with defaults applied and durations compiled to milliseconds. */
export interface Settings {
  readonly config: string | undefined;
  /** Undefined when no flag, env var or file sets it: look for the server by mDNS (see `mdns`). */
  readonly serverAddr: string | undefined;
  readonly mdns: boolean;
  readonly discoveryTimeoutMs: number;
  readonly fsMount: string;
  readonly logLevel: LogLevel;
  readonly listen: string;
  readonly httpPort: number | undefined;
  readonly httpHost: string;
  readonly maxJobs: number;
  readonly disableLinking: boolean;
  readonly name: string;
  readonly verbose: boolean;
  readonly json: boolean;
  readonly watch: boolean;
  readonly agentSocket: string;
  readonly agentIdleTimeoutMs: number;
  readonly jobTimeoutMs: number;
  readonly outputWaitTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly envAllowlist: readonly string[];
  readonly compilerAllowlist: readonly string[];
  readonly allowFlags: readonly string[];
  readonly maxOutputBytes: number;
  readonly allowRoot: boolean;
  readonly allowMountExecutables: boolean;
  /** The token setting itself (DISTBUILD_TOKEN or a file's token). */
  readonly token: string | undefined;
  /** Tokens from `token` and `token_file`; clients send the first, the server accepts any. */
  readonly tokens: readonly string[];
  /** The token_file setting, watched for rotation by a running server. */
  readonly tokenFile: string | undefined;
  /** Tokens from `worker_token` and `worker_token_file`: workers send the first; the server, with any, takes only these for Work. */
  readonly workerTokens: readonly string[];
  /** The worker_token_file setting, watched like token_file. */
  readonly workerTokenFile: string | undefined;
  readonly insecure: boolean;
  /** TLS files (paths), each undefined unless set. */
  readonly tls: TlsFiles;
  readonly maxMessageBytes: number;
  readonly maxJobArgs: number;
  readonly maxArgBytes: number;
  readonly maxJobsPerClient: number;
  readonly genCertsSan: readonly string[];
  readonly queueTimeoutMs: number;
  readonly maxAttempts: number;
  readonly batchSize: number;
  readonly batchTimeoutMs: number;
  readonly localityMaxDelayMs: number;
  readonly maxDirsTracked: number;
  readonly dirReportIntervalMs: number;
  readonly leaseTimeoutMs: number;
  readonly fallback: boolean;
  readonly reconnectTimeoutMs: number;
  readonly cache: CacheMode;
  /** Absolute: cache_dir, or <fs_mount>/.distbuild-cache. */
  readonly cacheDir: string;
  readonly cacheMaxSizeBytes: number;
}

/** true: look up (launchers) and store (workers); read-only: look up only; false: neither. */
export type CacheMode = 'true' | 'false' | 'read-only';

/** Where a raw value came from, for error messages. */
export interface RawSource {
  /** e.g. "--max-jobs", "DISTBUILD_MAX_JOBS", "/etc/distbuild/distbuild.toml: max_jobs". */
  readonly label: (key: OptionKey) => string;
  /** Setting → raw value (strings from flags and env; TOML's own types from files). */
  readonly values: ReadonlyMap<OptionKey, unknown>;
}
