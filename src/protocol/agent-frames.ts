// The client ↔ agent protocol on the per-user Unix socket (proto/agent-protocol.md): length-prefixed frames.
//
// Dependency-free: the Node launcher's hot path loads it, and native/distbuild-client.c
// speaks the same bytes (test/fixtures/agent-vectors.json holds vectors both are tested on).
import { FrameError, encodeFrame } from '../common/frames.js';

export { FrameError, MAX_FRAME_BYTES, createFrameReader, encodeFrame, type Frame } from '../common/frames.js';

/** Frame types. 1 is JSON (HELLO from clients, MISMATCH from agents), as in protocols 1 and 2. */
export const FRAME = {
  /** client → agent, first frame: JSON {"v":N}. agent → client: JSON {"type":"version-mismatch","agent":N}. */
  JSON: 1,
  /** agent → client: bytes for the client's stdout. */
  STDOUT: 2,
  /** agent → client: bytes for the client's stderr. */
  STDERR: 3,
  /** client → agent: the client's argv, cwd and environment. */
  REQUEST: 16,
  /** agent → client: exit with this code (u32). */
  EXIT: 17,
  /** agent → client: run your own command (u32 argv index, NUL-terminated executable or ""), holding the connection. */
  RUN_LOCAL: 18,
  /** agent → client: still working on it. */
  KEEPALIVE: 19,
} as const;

/** The protocol this code speaks; a client and an agent of different protocols run the job locally. */
export const AGENT_PROTOCOL = 3;

/** The agent sends KEEPALIVE at least this often while a client waits on it. */
export const KEEPALIVE_MS = 2000;

/** A client that hears nothing from its agent for this long gives up on it (builds locally). */
export const SILENCE_MS = 5 * KEEPALIVE_MS;

/** What a client sends: its whole argv, working directory and environment, untouched. */
export interface ClientRequest {
  /** Reserved, 0. */
  readonly flags: number;
  readonly pid: number;
  /** Chosen by the client, kept when it retries on another agent: the job's idempotency key. */
  readonly id: string;
  /** The client's working directory (getcwd). */
  readonly cwd: string;
  /** argv[0] included. */
  readonly argv: readonly string[];
  /** "NAME=VALUE" entries in the client's order. */
  readonly env: readonly string[];
}

export function encodeJson(value: unknown): Buffer {
  return encodeFrame(FRAME.JSON, Buffer.from(JSON.stringify(value), 'utf8'));
}

/** The first frame of a client: {"v":AGENT_PROTOCOL}. Agents of protocol 2 answer it with a mismatch too. */
export function encodeHello(version: number = AGENT_PROTOCOL): Buffer {
  return encodeJson({ v: version });
}

/** The answer of an agent to a client of another protocol. */
export function encodeMismatch(): Buffer {
  return encodeJson({ type: 'version-mismatch', agent: AGENT_PROTOCOL });
}

const u32 = (n: number): Buffer => {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
};
const cstring = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8');

export function encodeRequest(r: ClientRequest): Buffer {
  const parts = [u32(r.flags), u32(r.pid), cstring(r.id), cstring(r.cwd), u32(r.argv.length), ...r.argv.map(cstring), u32(r.env.length), ...r.env.map(cstring)];
  return encodeFrame(FRAME.REQUEST, Buffer.concat(parts));
}

export const encodeExit = (code: number): Buffer => encodeFrame(FRAME.EXIT, u32(code));

export const encodeRunLocal = (index: number, executable: string): Buffer =>
  encodeFrame(FRAME.RUN_LOCAL, Buffer.concat([u32(index), cstring(executable)]));

export const encodeKeepalive = (): Buffer => encodeFrame(FRAME.KEEPALIVE, Buffer.alloc(0));

/** Reads u32s and NUL-terminated UTF-8 strings from a payload, throwing FrameError past its end. */
function createCursor(payload: Buffer, what: string) {
  let at = 0;
  return {
    u32(field: string): number {
      if (at + 4 > payload.length) throw new FrameError(`${what}: truncated before ${field}`);
      const v = payload.readUInt32BE(at);
      at += 4;
      return v;
    },
    string(field: string): string {
      const end = payload.indexOf(0, at);
      if (end < 0) throw new FrameError(`${what}: ${field} is not NUL-terminated`);
      const s = payload.toString('utf8', at, end);
      at = end + 1;
      return s;
    },
    strings(field: string): string[] {
      const n = this.u32(`the count of ${field}`);
      // Each string takes at least its NUL byte: a count beyond the bytes left is a lie.
      if (n > payload.length - at) throw new FrameError(`${what}: ${n} ${field} cannot fit in ${payload.length - at} bytes`);
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(this.string(`${field}[${i}]`));
      return out;
    },
    end(): void {
      if (at !== payload.length) throw new FrameError(`${what}: ${payload.length - at} bytes after the last field`);
    },
  };
}

export function decodeRequest(payload: Buffer): ClientRequest {
  const c = createCursor(payload, 'REQUEST');
  const flags = c.u32('flags');
  const pid = c.u32('pid');
  const id = c.string('id');
  const cwd = c.string('cwd');
  const argv = c.strings('argv');
  const env = c.strings('env');
  c.end();
  return { flags, pid, id, cwd, argv, env };
}

export function decodeExit(payload: Buffer): number {
  const c = createCursor(payload, 'EXIT');
  const code = c.u32('code');
  c.end();
  return code;
}

export function decodeRunLocal(payload: Buffer): { readonly index: number; readonly executable: string } {
  const c = createCursor(payload, 'RUN_LOCAL');
  const index = c.u32('index');
  const executable = c.string('executable');
  c.end();
  return { index, executable };
}

/** The protocol version in a HELLO payload, or undefined if it has none. */
export function helloVersion(payload: Buffer): number | undefined {
  try {
    const v: unknown = JSON.parse(payload.toString('utf8'));
    if (typeof v === 'object' && v !== null && 'v' in v && typeof v.v === 'number') return v.v;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
  }
  return undefined;
}

/** The agent's protocol in a MISMATCH payload (JSON {"agent":N}), or 0 if it does not say. */
export function mismatchVersion(payload: Buffer): number {
  const m = /"agent"\s*:\s*(\d+)/.exec(payload.toString('utf8'));
  return m === null ? 0 : Number(m[1]);
}

/** The mode of a distbuild argv (argv[0] excluded): a launcher if --compiler or --linker comes before "--". */
export function launcherMode(args: readonly string[]): 'compiler' | 'linker' | undefined {
  for (const a of args) {
    if (a === '--') return undefined;
    if (a === '--compiler') return 'compiler';
    if (a === '--linker') return 'linker';
  }
  return undefined;
}

/** Index in argv (argv[0] included) of the command a launcher runs: the argument after the first "--"; argv.length if none. */
export function commandIndex(argv: readonly string[]): number {
  const sep = argv.indexOf('--', 1);
  return sep < 0 ? argv.length : sep + 1;
}
