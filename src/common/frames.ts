// Length-prefixed frames on a byte stream: a 4-byte big-endian length (type byte and payload), a type byte, the payload.
//
// Dependency-free: the agent protocol (src/protocol/agent-frames.ts) and the worker's spawner use it.

/** A frame: its type and payload. */
export interface Frame {
  readonly type: number;
  readonly payload: Buffer;
}

/** Largest frame accepted (type byte and payload). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** A malformed frame: the message names what is wrong. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

export function encodeFrame(type: number, payload: Uint8Array): Buffer {
  const header = Buffer.allocUnsafe(5);
  header.writeUInt32BE(payload.length + 1, 0);
  header.writeUInt8(type, 4);
  return Buffer.concat([header, payload]);
}

/** Splits a byte stream into frames; throws FrameError on a frame of length 0 or over MAX_FRAME_BYTES. */
export function createFrameReader(onFrame: (frame: Frame) => void): (chunk: Buffer) => void {
  let buffered: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= 5) {
      const length = buffered.readUInt32BE(0);
      if (length < 1 || length > MAX_FRAME_BYTES) throw new FrameError(`bad frame length ${length} (at most ${MAX_FRAME_BYTES})`);
      if (buffered.length < 4 + length) return;
      const type = buffered.readUInt8(4);
      const payload = buffered.subarray(5, 4 + length);
      buffered = buffered.subarray(4 + length);
      onFrame({ type, payload });
    }
  };
}
