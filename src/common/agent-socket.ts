// Where a client finds its agent: --agent-socket, DISTBUILD_AGENT_SOCKET, or the per-user default (as native/distbuild-client.c does).
import path from 'node:path';

/** $XDG_RUNTIME_DIR/distbuild/agent.sock, else $TMPDIR/distbuild-$UID/agent.sock (TMPDIR as os.tmpdir() reads it). */
export function defaultAgentSocket(env: NodeJS.ProcessEnv): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime !== undefined && runtime !== '') return path.join(runtime, 'distbuild', 'agent.sock');
  let tmp = env.TMPDIR || env.TMP || env.TEMP || '/tmp';
  if (tmp.length > 1 && tmp.endsWith('/')) tmp = tmp.slice(0, -1);
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return path.join(tmp, `distbuild-${uid}`, 'agent.sock');
}

/** The socket of a launcher's argv (argv[0] excluded): its flag before "--", else the environment, else the default. */
export function agentSocketOf(args: readonly string[], env: NodeJS.ProcessEnv): string {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') break;
    if (a.startsWith('--agent-socket=')) return a.slice('--agent-socket='.length);
    if (a === '--agent-socket' && args[i + 1] !== undefined) return args[i + 1] ?? '';
  }
  const fromEnv = env.DISTBUILD_AGENT_SOCKET;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : defaultAgentSocket(env);
}

/** A boolean setting from flags and environment only (a client without an agent reads no config file). */
export function flagOrEnvBoolean(args: readonly string[], env: NodeJS.ProcessEnv, flag: string, fallback: boolean): boolean {
  const truthy = (v: string): boolean | undefined => (['1', 'true', 'yes', 'on'].includes(v.toLowerCase()) ? true : ['0', 'false', 'no', 'off'].includes(v.toLowerCase()) ? false : undefined);
  const own = args.indexOf('--') < 0 ? args : args.slice(0, args.indexOf('--'));
  for (let i = own.length - 1; i >= 0; i--) {
    const a = own[i] ?? '';
    if (a === `--${flag}`) return true;
    if (a === `--no-${flag}`) return false;
    if (a.startsWith(`--${flag}=`)) return truthy(a.slice(flag.length + 3)) ?? fallback;
  }
  const v = env[`DISTBUILD_${flag.toUpperCase().replace(/-/g, '_')}`];
  return v === undefined || v === '' ? fallback : (truthy(v) ?? fallback);
}
