// Which environment variables travel with a job: a small allowlist, never the whole env.

/** Variables a job may carry, beyond LC_*: locale, reproducibility, compiler search paths. */
export const JOB_ENV_ALLOWLIST: readonly string[] = [
  'LANG', 'LANGUAGE', 'SOURCE_DATE_EPOCH', 'CPATH', 'C_INCLUDE_PATH', 'CPLUS_INCLUDE_PATH', 'OBJC_INCLUDE_PATH',
  'LIBRARY_PATH', 'GCC_COLORS', 'GCC_URLS', 'TERM', 'COLUMNS', 'DEPENDENCIES_OUTPUT', 'SUNPRO_DEPENDENCIES',
];

/** Variables that make the dynamic loader or libc load code: never passed, whatever the allowlist says. */
const NEVER = /^(LD_|DYLD_)|^(GCONV_PATH|MALLOC_|HOSTALIASES$|RESOLV_HOST_CONF$|NODE_OPTIONS$|BASH_ENV$|ENV$)/;

export function isAllowedJobEnv(name: string, extra: readonly string[]): boolean {
  if (NEVER.test(name)) return false;
  return name.startsWith('LC_') || JOB_ENV_ALLOWLIST.includes(name) || extra.includes(name);
}

/** The allowlisted part of `env`. */
export function pickJobEnv(env: NodeJS.ProcessEnv, extra: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && isAllowedJobEnv(name, extra)) out[name] = value;
  }
  return out;
}
