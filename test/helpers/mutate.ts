// Seeded mutations of encoded protobuf messages for the fuzz tests: bit flips, truncation, wire-type confusion, noise.

import { seededRandom } from './random.js';

/** Seeded integers and bytes, so a failing run can be replayed from its seed. */
export function createRandom(seed: number): { int(n: number): number; bytes(n: number): Buffer } {
  const next = seededRandom(seed);
  const int = (n: number): number => Math.floor(next() * n);
  return { int, bytes: (n) => Buffer.from(Array.from({ length: n }, () => int(256))) };
}

export type Random = ReturnType<typeof createRandom>;

const MUTATORS: ReadonlyArray<(b: Buffer, r: Random) => Buffer> = [
  // bit flips
  (b, r) => {
    const out = Buffer.from(b);
    for (let i = 0, n = 1 + r.int(8); i < n && out.length > 0; i++) {
      const at = r.int(out.length);
      out[at] = (out[at] ?? 0) ^ (1 << r.int(8));
    }
    return out;
  },
  // truncation
  (b, r) => b.subarray(0, r.int(b.length + 1)),
  // wire-type confusion: a byte's low three bits (a tag's wire type) replaced
  (b, r) => {
    const out = Buffer.from(b);
    if (out.length > 0) {
      const i = r.int(out.length);
      out[i] = ((out[i] ?? 0) & 0xf8) | r.int(8);
    }
    return out;
  },
  // a length or varint blown up
  (b, r) => {
    const at = r.int(b.length + 1);
    return Buffer.concat([b.subarray(0, at), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01].slice(r.int(9))), b.subarray(at)]);
  },
  // random bytes spliced in, or appended
  (b, r) => {
    const at = r.int(b.length + 1);
    return Buffer.concat([b.subarray(0, at), r.bytes(1 + r.int(32)), b.subarray(at)]);
  },
  // a chunk duplicated (repeated fields, repeated oneof members)
  (b, r) => {
    const from = r.int(b.length + 1);
    return Buffer.concat([b, b.subarray(from, from + 1 + r.int(64))]);
  },
  // random bytes only
  (_b, r) => r.bytes(r.int(256)),
];

/** One to three mutations of `valid`. */
export function mutate(valid: Uint8Array, r: Random): Buffer {
  let out: Buffer = Buffer.from(valid);
  for (let i = 0, n = 1 + r.int(3); i < n; i++) {
    const m = MUTATORS[r.int(MUTATORS.length)];
    if (m !== undefined) out = m(out, r);
  }
  return out;
}
