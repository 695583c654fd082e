// A client's settings, resolved in the agent from its argv and environment: flags > DISTBUILD_* env > TOML > defaults.
import { readFile, stat } from 'node:fs/promises';
import { errnoCode } from '../common/errno.js';
import { ConfigError } from '../config/config-error.js';
import { defaultConfigPaths, envSource, fileSource, flagSource, parseTokens, resolveSettings } from '../config/resolve-settings.js';
import type { RawSource, Settings } from '../config/settings.js';
import { parseLauncherArgs } from '../config/launcher-flags.js';

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

interface CachedFile<T> {
  /** size, mtime, ctime and inode: a change to any means the file is read again. */
  readonly stamp: string;
  readonly value: T;
}

export interface SettingsResolver {
  /** Throws ConfigError for bad flags, environment or config files, naming the problem. */
  resolve(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<LauncherCall>;
}

/** Config and token files are parsed once, and again only when their stat changes. */
export function createSettingsResolver(): SettingsResolver {
  const configs = new Map<string, CachedFile<RawSource>>();
  const tokenFiles = new Map<string, CachedFile<string[]>>();

  /** `parse` of the file's text, cached by stat; undefined if it does not exist and need not. */
  async function cached<T>(cache: Map<string, CachedFile<T>>, file: string, mustExist: boolean, what: string, setting: 'config' | 'tokenFile',
    parse: (text: string) => T | Promise<T>): Promise<T | undefined> {
    let stamp: string;
    try {
      const st = await stat(file, { bigint: true });
      stamp = `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}`;
    } catch (err) {
      cache.delete(file);
      if (!mustExist && errnoCode(err) === 'ENOENT') return undefined;
      throw new ConfigError(`cannot read ${what} ${file}: ${err instanceof Error ? err.message : String(err)}`, setting);
    }
    const hit = cache.get(file);
    if (hit?.stamp === stamp) return hit.value;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read ${what} ${file}: ${err instanceof Error ? err.message : String(err)}`, setting);
    }
    const value = await parse(text);
    cache.set(file, { stamp, value });
    return value;
  }

  return {
    async resolve(argv, env) {
      const parsed = parseLauncherArgs(argv.slice(1));
      const flagged = parsed.flags.get('config');
      const explicit = typeof flagged === 'string' ? flagged : env.DISTBUILD_CONFIG !== '' ? env.DISTBUILD_CONFIG : undefined;
      const paths = explicit !== undefined ? [explicit] : defaultConfigPaths(env);
      const sources = await Promise.all(paths.map((p) => cached(configs, p, explicit !== undefined, 'config file', 'config', (text) => fileSource(p, text))));
      // The user's file overrides the system's, and the first source wins.
      const files = sources.filter((s): s is RawSource => s !== undefined).reverse();
      const settings = resolveSettings([flagSource(parsed.flags), envSource(env), ...files], env, { secrets: false });
      const tokenFile = settings.tokenFile;
      const tokens = tokenFile === undefined ? undefined : await cached(tokenFiles, tokenFile, true, 'token_file', 'tokenFile', (text) => parseTokens(settings.token, tokenFile, text));
      const commandIndex = argv.length - parsed.command.length;
      return { mode: parsed.mode, settings, token: tokens?.[0] ?? settings.token, commandIndex, command: parsed.command };
    },
  };
}
