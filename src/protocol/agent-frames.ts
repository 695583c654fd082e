// The launcher ↔ agent protocol on the local Unix socket: small length-prefixed frames.
//
// Each frame is a 4-byte big-endian length (of what follows), a 1-byte type, then the
// payload. Type 1 carries a UTF-8 JSON message (AgentRequest or AgentReply); types 2
// and 3 carry raw stdout and stderr bytes, which precede the reply that ends a job.
// The launcher sends one AgentRequest per connection. Dependency-free: it is on the
// launcher's hot path.

export const FRAME_JSON = 1;
export const FRAME_STDOUT = 2;
export const FRAME_STDERR = 3;

/** Bumped when old launchers and agents cannot talk. */
export const AGENT_PROTOCOL = 2;

/** A job as the launcher hands it to the agent. Paths are the launcher's own. */
export interface AgentRequest {
  readonly v: number;
  readonly type: 'job';
  readonly id: string;
  readonly kind: 'compile' | 'link';
  readonly argv: readonly string[];
  /** Mount-relative cwd. */
  readonly cwd: string;
  readonly fsMount: string;
  readonly env: Readonly<Record<string, string>>;
  readonly dirs: readonly string[];
  readonly outputs: readonly string[];
  /** Absent when the launcher has no server_addr: the agent looks for the server (mDNS). */
  readonly serverAddr?: string;
  /** How long the agent may look for the server by mDNS; 0: mdns = false, go to 127.0.0.1:50051. */
  readonly discoveryTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly client: string;
}

/** What the agent answers when a job ends. */
export type AgentReply =
  | {
      readonly type: 'result';
      readonly exitCode: number;
      readonly worker: string;
      readonly durationMs: number;
      /** Mount-relative paths and sizes of published outputs. */
      readonly outputs: ReadonlyArray<{ readonly path: string; readonly sizeBytes: number }>;
      readonly truncated: boolean;
    }
  /** The farm could not run the job: the launcher may build locally. */
  | { readonly type: 'fallback'; readonly reason: string }
  /** The farm refused the job as invalid: retrying or building locally would not be right. */
  | { readonly type: 'rejected'; readonly reason: string }
  /** The agent speaks another protocol revision: the launcher restarts it. */
  | { readonly type: 'version-mismatch'; readonly agent: number };

export function encodeFrame(type: number, payload: Uint8Array): Buffer {
  const header = Buffer.allocUnsafe(5);
  header.writeUInt32BE(payload.length + 1, 0);
  header.writeUInt8(type, 4);
  return Buffer.concat([header, payload]);
}

export function encodeJson(value: unknown): Buffer {
  return encodeFrame(FRAME_JSON, Buffer.from(JSON.stringify(value), 'utf8'));
}

export interface Frame {
  readonly type: number;
  readonly payload: Buffer;
}

/** Largest frame accepted: a job's argv or a compiler's output beyond this is refused. */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** Splits a byte stream into frames; throws on a frame over MAX_FRAME_BYTES. */
export function createFrameReader(onFrame: (frame: Frame) => void): (chunk: Buffer) => void {
  let buffered: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= 5) {
      const length = buffered.readUInt32BE(0);
      if (length < 1 || length > MAX_FRAME_BYTES) throw new Error(`bad frame length ${length}`);
      if (buffered.length < 4 + length) return;
      const type = buffered.readUInt8(4);
      const payload = buffered.subarray(5, 4 + length);
      buffered = buffered.subarray(4 + length);
      onFrame({ type, payload });
    }
  };
}
