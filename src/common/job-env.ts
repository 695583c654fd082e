// Which environment variables travel with a job: a small allowlist, never the whole env.

/** Variables a job may carry, beyond LC_*: locale, reproducibility, compiler search paths. */
export const JOB_ENV_ALLOWLIST: readonly string[] = [
  'LANG', 'LANGUAGE', 'SOURCE_DATE_EPOCH', 'CPATH', 'C_INCLUDE_PATH', 'CPLUS_INCLUDE_PATH', 'OBJC_INCLUDE_PATH',
  'LIBRARY_PATH', 'GCC_COLORS', 'GCC_URLS', 'TERM', 'COLUMNS',
];

/**
 * Never passed, whatever the allowlist says: variables that make the dynamic loader or libc load
 * code, and those that make gcc write a file they name (DEPENDENCIES_OUTPUT, SUNPRO_DEPENDENCIES;
 * a launcher builds such a job locally: see DEPFILE_ENV).
 */
const NEVER = /^(LD_|DYLD_)|^(GCONV_PATH|MALLOC_|HOSTALIASES$|RESOLV_HOST_CONF$|NODE_OPTIONS$|BASH_ENV$|ENV$)/;

/** Variables that make gcc write a dependency file they name, wherever that is: a job that has one builds locally. */
const DEPFILE_ENV: readonly string[] = ['DEPENDENCIES_OUTPUT', 'SUNPRO_DEPENDENCIES'];

/** The first of DEPFILE_ENV that "NAME=VALUE" entries set, or undefined. */
export function depfileEnvIn(entries: readonly string[]): string | undefined {
  return DEPFILE_ENV.find((name) => entries.some((e) => e.startsWith(`${name}=`)));
}

const ALLOWED = new Set(JOB_ENV_ALLOWLIST);

export function isAllowedJobEnv(name: string, extra: readonly string[]): boolean {
  if (!(name.startsWith('LC_') || ALLOWED.has(name) || extra.includes(name))) return false;
  return !NEVER.test(name) && !DEPFILE_ENV.includes(name);
}

/** The allowlisted part of `env`. */
export function pickJobEnv(env: NodeJS.ProcessEnv, extra: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && isAllowedJobEnv(name, extra)) out[name] = value;
  }
  return out;
}

/** The allowlisted part of "NAME=VALUE" entries (the first of duplicate names wins, as getenv(3) has it). */
export function pickJobEnvEntries(entries: readonly string[], extra: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const name = entry.slice(0, eq);
    if (!Object.hasOwn(out, name) && isAllowedJobEnv(name, extra)) out[name] = entry.slice(eq + 1);
  }
  return out;
}
