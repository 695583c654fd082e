// Which environment variables travel with a job: a small allowlist, never the whole env.

/** Variables a job may carry, beyond LC_*: locale, reproducibility, compiler search paths. */
export const JOB_ENV_ALLOWLIST: readonly string[] = [
  'LANG', 'LANGUAGE', 'SOURCE_DATE_EPOCH', 'CPATH', 'C_INCLUDE_PATH', 'CPLUS_INCLUDE_PATH', 'OBJC_INCLUDE_PATH',
  'LIBRARY_PATH', 'GCC_COLORS', 'GCC_URLS', 'TERM', 'COLUMNS', 'DEPENDENCIES_OUTPUT', 'SUNPRO_DEPENDENCIES',
];

/** Variables that make the dynamic loader or libc load code: never passed, whatever the allowlist says. */
const NEVER = /^(LD_|DYLD_)|^(GCONV_PATH|MALLOC_|HOSTALIASES$|RESOLV_HOST_CONF$|NODE_OPTIONS$|BASH_ENV$|ENV$)/;

const ALLOWED = new Set(JOB_ENV_ALLOWLIST);

export function isAllowedJobEnv(name: string, extra: readonly string[]): boolean {
  if (!(name.startsWith('LC_') || ALLOWED.has(name) || extra.includes(name))) return false;
  return !NEVER.test(name);
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
