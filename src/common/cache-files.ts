// The cache's files on the shared mount: entries and manifests, checksummed, written by rename, never changed in place.
//
// Layout: <cache_dir>/<first two hex digits of the key>/<key>.entry (or .manifest): 256 shards.
// Directories are setgid and group-writable, files group-readable and -writable, so one cache
// serves a team whose members share a group.
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { CACHE_FORMAT, type ManifestFile } from './cache-key.js';
import { errnoCode } from './errno.js';

/** What one cached compile wrote: the object, its depfile (base marked), and what the compiler printed. */
export interface CacheEntry {
  readonly object: Buffer;
  readonly depfile: string;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

export interface ManifestCandidate {
  readonly files: readonly ManifestFile[];
  readonly result: string;
}

/** The header sets seen for one direct key, newest first. */
export interface Manifest {
  readonly candidates: readonly ManifestCandidate[];
}

/** A read that found nothing, or found a file that fails its checksum or format (then removed). */
export type CacheRead<T> = { readonly type: 'found'; readonly value: T } | { readonly type: 'missing' } | { readonly type: 'corrupt'; readonly reason: string };

/** Most header sets a manifest keeps; older ones are dropped. */
export const MAX_CANDIDATES = 16;
export const DIR_MODE = 0o2775;
export const FILE_MODE = 0o664;

const MAGIC = Buffer.from(`${CACHE_FORMAT}\n`);
const HASH_BYTES = 32;

export const entryPath = (dir: string, key: string): string => path.join(dir, key.slice(0, 2), `${key}.entry`);
export const manifestPath = (dir: string, key: string): string => path.join(dir, key.slice(0, 2), `${key}.manifest`);

const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();

/** Header, parts, then the SHA-256 of everything before it. */
function seal(header: unknown, parts: readonly Buffer[]): Buffer {
  const head = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(head.length);
  const body = Buffer.concat([MAGIC, length, head, ...parts]);
  return Buffer.concat([body, sha256(body)]);
}

/** The header and the bytes after it, or the reason the file is not a sound one. */
function unseal(data: Buffer): { header: unknown; rest: Buffer } | string {
  if (data.length < MAGIC.length + 4 + HASH_BYTES || !data.subarray(0, MAGIC.length).equals(MAGIC)) return 'not a cache file of this format';
  const body = data.subarray(0, data.length - HASH_BYTES);
  if (!sha256(body).equals(data.subarray(data.length - HASH_BYTES))) return 'its checksum does not match (truncated or corrupt)';
  const length = body.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4;
  if (start + length > body.length) return 'its header runs past its end';
  try {
    return { header: JSON.parse(body.subarray(start, start + length).toString('utf8')), rest: body.subarray(start + length) };
  } catch (err) {
    return `its header is not JSON: ${err instanceof Error ? err.message : String(err)}`;
  }
}

export function encodeEntry(e: CacheEntry): Buffer {
  const depfile = Buffer.from(e.depfile);
  return seal({ sizes: [e.object.length, depfile.length, e.stdout.length, e.stderr.length] }, [e.object, depfile, e.stdout, e.stderr]);
}

const isSizes = (v: unknown): v is [number, number, number, number] => Array.isArray(v) && v.length === 4 && v.every((n) => Number.isSafeInteger(n) && n >= 0);

export function decodeEntry(data: Buffer): CacheEntry | string {
  const sealed = unseal(data);
  if (typeof sealed === 'string') return sealed;
  const sizes: unknown = typeof sealed.header === 'object' && sealed.header !== null ? Reflect.get(sealed.header, 'sizes') : undefined;
  if (!isSizes(sizes) || sizes.reduce((a, b) => a + b, 0) !== sealed.rest.length) return 'its sizes do not add up';
  const [o, d, out] = sizes;
  const rest = sealed.rest;
  return {
    object: rest.subarray(0, o),
    depfile: rest.subarray(o, o + d).toString('utf8'),
    stdout: rest.subarray(o + d, o + d + out),
    stderr: rest.subarray(o + d + out),
  };
}

/** Buffers reused between reads of entries: a hit then costs no fresh memory (and its page faults) per object. */
export interface BufferPool {
  take(size: number): Buffer;
  give(buffer: Buffer): void;
}

export function createBufferPool(keep = 4): BufferPool {
  const free: Buffer[] = [];
  return {
    take(size) {
      const i = free.findIndex((b) => b.length >= size);
      if (i >= 0) return free.splice(i, 1)[0] ?? Buffer.allocUnsafeSlow(size);
      return Buffer.allocUnsafeSlow(Math.max(64 * 1024, 2 ** Math.ceil(Math.log2(Math.max(1, size)))));
    },
    give(buffer) {
      if (free.length < keep) free.push(buffer);
      else free.sort((a, b) => a.length - b.length).splice(0, 1, buffer);
    },
  };
}

/**
 * Reads an entry into a pooled buffer; its parts are views of that buffer until `release()`.
 * A corrupt entry is removed, as readCacheFile does.
 */
export async function readEntry(file: string, pool: BufferPool): Promise<CacheRead<{ readonly entry: CacheEntry; release(): void }>> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    if (errnoCode(err) === undefined) throw err;
    return { type: 'missing' };
  }
  let buffer: Buffer | undefined;
  let length = 0;
  try {
    const { size } = await fh.stat();
    buffer = pool.take(size);
    while (length < size) {
      const { bytesRead } = await fh.read(buffer, length, size - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
  } finally {
    await fh.close();
  }
  const held = buffer;
  const entry = decodeEntry(held.subarray(0, length));
  if (typeof entry !== 'string') return { type: 'found', value: { entry, release: () => pool.give(held) } };
  pool.give(held);
  await removeCacheFile(file);
  return { type: 'corrupt', reason: `${file}: ${entry}` };
}

export const encodeManifest = (m: Manifest): Buffer => seal(m, []);

const isFile = (v: unknown): v is ManifestFile =>
  typeof v === 'object' && v !== null && typeof Reflect.get(v, 'path') === 'string' && typeof Reflect.get(v, 'hash') === 'string';
const isCandidate = (v: unknown): v is ManifestCandidate => {
  if (typeof v !== 'object' || v === null) return false;
  const files: unknown = Reflect.get(v, 'files');
  return typeof Reflect.get(v, 'result') === 'string' && Array.isArray(files) && files.every(isFile);
};

export function decodeManifest(data: Buffer): Manifest | string {
  const sealed = unseal(data);
  if (typeof sealed === 'string') return sealed;
  const candidates: unknown = typeof sealed.header === 'object' && sealed.header !== null ? Reflect.get(sealed.header, 'candidates') : undefined;
  if (!Array.isArray(candidates) || !candidates.every(isCandidate) || sealed.rest.length !== 0) return 'it is not a manifest';
  return { candidates };
}

/** Reads and decodes a cache file; a corrupt one is removed (where this user may), so the next compile replaces it. */
export async function readCacheFile<T>(file: string, decode: (data: Buffer) => T | string): Promise<CacheRead<T>> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    if (errnoCode(err) === undefined) throw err;
    return { type: 'missing' };
  }
  const value = decode(data);
  if (typeof value !== 'string') return { type: 'found', value };
  await removeCacheFile(file);
  return { type: 'corrupt', reason: `${file}: ${value}` };
}

/** Removes a cache file; one already gone, or that this user may not remove, is left to the janitor. */
export async function removeCacheFile(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (err) {
    if (errnoCode(err) === undefined) throw err;
  }
}

/**
 * Writes `data` to `file` by way of a temporary file in the same directory, renamed over it: a
 * reader sees the old file or the whole new one. `mode`, if given, is set despite the umask.
 */
export async function writeByRename(file: string, data: Buffer | string, mode?: number): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.distbuild-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, data, { flag: 'wx', ...(mode === undefined ? {} : { mode }) });
    if (mode !== undefined) await chmod(temp, mode); // the umask may have taken the group's bits
    await rename(temp, file);
  } catch (err) {
    await removeCacheFile(temp);
    throw err;
  }
}

/** Writes a cache file by rename, creating its shard (setgid, group-writable) if need be. */
export async function writeCacheFile(file: string, data: Buffer): Promise<void> {
  const dir = path.dirname(file);
  const created = await mkdir(dir, { recursive: true, mode: DIR_MODE });
  // mkdir ignores the setgid bit and applies the umask: set both on what it created (the cache and a shard).
  if (created !== undefined) for (const d of new Set([created, dir])) await chmod(d, DIR_MODE);
  await writeByRename(file, data, FILE_MODE);
}
