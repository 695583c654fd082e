// The messages between a worker and its spawner process (src/worker/spawner-process.ts): JSON in frames on its stdin and stdout.

/** worker → spawner. */
export type SpawnRequest =
  | {
      readonly op: 'spawn';
      readonly id: number;
      readonly file: string;
      /** argv[0] as the command sees it. */
      readonly argv0: string;
      readonly args: readonly string[];
      readonly cwd: string;
      readonly env: Readonly<Record<string, string>>;
      /** Bytes kept of each of stdout and stderr; the rest is dropped and `truncated` set. */
      readonly cap: number;
    }
  /** Kill the command's whole process group. */
  | { readonly op: 'kill'; readonly id: number };

/** spawner → worker. */
export type SpawnEvent =
  | { readonly op: 'started'; readonly id: number; readonly pid: number }
  | {
      readonly op: 'exit';
      readonly id: number;
      readonly code: number | null;
      readonly signal: string | null;
      /** Base64 of the first `cap` bytes written. */
      readonly stdout: string;
      readonly stderr: string;
      readonly truncated: boolean;
    }
  /** The command could not be started. */
  | { readonly op: 'error'; readonly id: number; readonly message: string };

/** Frame type of every spawner message. */
export const SPAWN_FRAME = 1;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function isEnv(v: unknown): v is Record<string, string> {
  return isRecord(v) && Object.values(v).every((x) => typeof x === 'string');
}

/** A request from its JSON, or undefined if it is not one. */
export function parseSpawnRequest(text: string): SpawnRequest | undefined {
  const v: unknown = JSON.parse(text);
  if (!isRecord(v) || typeof v.id !== 'number') return undefined;
  if (v.op === 'kill') return { op: 'kill', id: v.id };
  if (v.op === 'spawn' && typeof v.file === 'string' && typeof v.argv0 === 'string' && isStrings(v.args) && typeof v.cwd === 'string' && isEnv(v.env) && typeof v.cap === 'number') {
    return { op: 'spawn', id: v.id, file: v.file, argv0: v.argv0, args: v.args, cwd: v.cwd, env: v.env, cap: v.cap };
  }
  return undefined;
}

/** An event from its JSON, or undefined if it is not one. */
export function parseSpawnEvent(text: string): SpawnEvent | undefined {
  const v: unknown = JSON.parse(text);
  if (!isRecord(v) || typeof v.id !== 'number') return undefined;
  if (v.op === 'started' && typeof v.pid === 'number') return { op: 'started', id: v.id, pid: v.pid };
  if (v.op === 'error' && typeof v.message === 'string') return { op: 'error', id: v.id, message: v.message };
  if (v.op === 'exit' && typeof v.stdout === 'string' && typeof v.stderr === 'string' && typeof v.truncated === 'boolean') {
    const code = typeof v.code === 'number' ? v.code : null;
    const signal = typeof v.signal === 'string' ? v.signal : null;
    return { op: 'exit', id: v.id, code, signal, stdout: v.stdout, stderr: v.stderr, truncated: v.truncated };
  }
  return undefined;
}
