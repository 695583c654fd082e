// A client's settings, resolved in the agent from its argv and environment: flags > DISTBUILD_* env > TOML > defaults.
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { errnoCode } from '../common/errno.js';
import { ConfigError } from '../config/config-error.js';
import { parseLauncherArgs } from '../config/launcher-flags.js';
import { defaultConfigPaths, envSource, fileSource, flagSource, parseTokens, resolveSettings } from '../config/resolve-settings.js';
import type { RawSource, Settings } from '../config/settings.js';

/** A launcher invocation with its settings resolved. */
export interface LauncherCall {
  readonly mode: 'compiler' | 'linker';
  readonly settings: Settings;
  /** The token its agent sends the server: the token setting, else the first of token_file. */
  readonly token: string | undefined;
  /** Index in the client's argv of the command's first argument. */
  readonly commandIndex: number;
  readonly command: readonly string[];
}

export interface SettingsResolver {
  /**
   * `env` needs only what settings read: DISTBUILD_*, HOME, XDG_CONFIG_HOME, XDG_RUNTIME_DIR and
   * the TMPDIR family (see settingsEnv). Throws ConfigError for bad flags, environment or files.
   */
  resolve(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<LauncherCall>;
}

/** The part of a client's environment that settings read. */
export function settingsEnv(entries: readonly string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const name = entry.slice(0, eq);
    if (!name.startsWith('DISTBUILD_') && !SETTINGS_ENV.has(name)) continue;
    if (!(name in env)) env[name] = entry.slice(eq + 1); // the first of duplicate names wins, as getenv(3) has it
  }
  return env;
}

const SETTINGS_ENV = new Set(['HOME', 'XDG_CONFIG_HOME', 'XDG_RUNTIME_DIR', 'TMPDIR', 'TMP', 'TEMP']);

interface CachedFile<T> {
  readonly stamp: string;
  readonly value: T;
}

/** What a call's settings were made of, to tell whether they still hold. */
interface Memo {
  readonly call: Omit<LauncherCall, 'commandIndex' | 'command'>;
  readonly files: readonly string[];
  readonly stamps: string;
}

/**
 * size, mtime, ctime and inode: a change to any means the file is read again. A synchronous stat:
 * a few microseconds, on every job. Should the file's filesystem hang (an NFS home), the agent
 * stops answering, and its clients notice within SILENCE_MS and build locally.
 */
function stampOf(file: string): string {
  try {
    const st = statSync(file, { bigint: true, throwIfNoEntry: false });
    return st === undefined ? 'ENOENT' : `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}`;
  } catch (err) {
    const code = errnoCode(err);
    if (code === undefined) throw err;
    return code;
  }
}

/** Config and token files are parsed once, and again only when their stat changes; settings are kept for the same flags, env and files. */
export function createSettingsResolver(): SettingsResolver {
  const configs = new Map<string, CachedFile<RawSource>>();
  const tokenFiles = new Map<string, CachedFile<string[]>>();
  const memos = new Map<string, Memo>();

  /** `parse` of the file's text, cached by stat, and the stat it was read at; no value if it does not exist and need not. */
  async function cached<T>(cache: Map<string, CachedFile<T>>, file: string, mustExist: boolean, what: string, setting: 'config' | 'tokenFile',
    parse: (text: string) => T | Promise<T>): Promise<{ value: T | undefined; stamp: string }> {
    const stamp = stampOf(file);
    if (stamp.startsWith('E')) {
      cache.delete(file);
      if (!mustExist && stamp === 'ENOENT') return { value: undefined, stamp };
      throw new ConfigError(`cannot read ${what} ${file}: ${stamp}`, setting);
    }
    const hit = cache.get(file);
    if (hit?.stamp === stamp) return { value: hit.value, stamp };
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read ${what} ${file}: ${err instanceof Error ? err.message : String(err)}`, setting);
    }
    const value = await parse(text);
    cache.set(file, { stamp, value });
    return { value, stamp };
  }

  /** The call, the files it was made of, and their stats as read (a file changed since then is a miss next time). */
  async function resolveAfresh(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<{ call: LauncherCall; memo: Memo }> {
    const parsed = parseLauncherArgs(argv.slice(1));
    const flagged = parsed.flags.get('config');
    const explicit = typeof flagged === 'string' ? flagged : env.DISTBUILD_CONFIG !== '' ? env.DISTBUILD_CONFIG : undefined;
    const paths = explicit !== undefined ? [explicit] : defaultConfigPaths(env);
    const read = await Promise.all(paths.map((p) => cached(configs, p, explicit !== undefined, 'config file', 'config', (text) => fileSource(p, text))));
    // The user's file overrides the system's, and the first source wins.
    const fileSources = read.map((r) => r.value).filter((s): s is RawSource => s !== undefined).reverse();
    const settings = resolveSettings([flagSource(parsed.flags), envSource(env), ...fileSources], env, { secrets: false });
    const tokenFile = settings.tokenFile;
    const tokens = tokenFile === undefined ? undefined
      : await cached(tokenFiles, tokenFile, true, 'token_file', 'tokenFile', (text) => parseTokens(settings.token, tokenFile, text));
    const kept = { mode: parsed.mode, settings, token: tokens?.value?.[0] ?? settings.token };
    const files = tokenFile === undefined ? paths : [...paths, tokenFile];
    const stamps = [...read.map((r) => r.stamp), ...(tokens === undefined ? [] : [tokens.stamp])].join('|');
    return { call: { ...kept, commandIndex: argv.length - parsed.command.length, command: parsed.command }, memo: { call: kept, files, stamps } };
  }

  return {
    async resolve(argv, env) {
      const sep = argv.indexOf('--', 1);
      const key = JSON.stringify([sep < 0 ? argv.slice(1) : argv.slice(1, sep), env]);
      const memo = memos.get(key);
      if (memo !== undefined && sep >= 0 && sep + 1 < argv.length) {
        const stamps = memo.files.map(stampOf).join('|');
        if (stamps === memo.stamps) return { ...memo.call, commandIndex: sep + 1, command: argv.slice(sep + 1) };
      }
      const { call, memo: fresh } = await resolveAfresh(argv, env);
      if (memos.size >= 64) memos.clear();
      memos.set(key, fresh);
      return call;
    },
  };
}
