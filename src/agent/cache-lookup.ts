// Looks a compile up in the shared cache (direct mode) and, on a hit, writes its outputs as the compile would have.
import { utimes } from 'node:fs/promises';
import path from 'node:path';
import { cacheability, directKey, unmarkText, type Cacheable } from '../common/cache-key.js';
import type { CommandLine } from '../common/command-line.js';
import { createBufferPool, decodeManifest, entryPath, manifestPath, readCacheFile, readEntry, writeByRename, type CacheEntry, type ManifestCandidate } from '../common/cache-files.js';
import { errnoCode } from '../common/errno.js';
import type { FileHashes } from '../common/file-hashes.js';
import { fromMountRelative } from '../common/mount-path.js';
import type { Job } from '../protocol/messages.js';

export type LookupResult =
  | { readonly type: 'hit'; readonly stdout: Buffer; readonly stderr: Buffer }
  | { readonly type: 'miss'; /** A corrupt file met on the way (now removed), for --verbose. */ readonly note?: string }
  | { readonly type: 'uncacheable'; readonly reason: string };

export interface LookupInput {
  readonly job: Job;
  /** The client's mount path, as the job's paths are written. */
  readonly mount: string;
  /** The real path of the compiler the client would run. */
  readonly compiler: string;
  readonly dir: string;
  /** The job's command line, as planning parsed it. */
  readonly cl: CommandLine;
}

export interface CacheLookup {
  lookup(input: LookupInput): Promise<LookupResult>;
}


export function createCacheLookup(hashes: FileHashes): CacheLookup {
  const pool = createBufferPool();
  /** The first candidate whose every header still hashes as it did. */
  async function matching(c: Cacheable, cwd: string, candidates: readonly ManifestCandidate[]): Promise<ManifestCandidate | undefined> {
    for (const candidate of candidates) {
      let all = true;
      for (const f of candidate.files) {
        const named = c.base === undefined ? f.path : unmarkText(f.path, c.base);
        const file = named.startsWith('/') ? named : path.resolve(cwd, named);
        const h = hashes.cached(file) ?? (await hashes.of(file));
        if (h?.hash !== f.hash) {
          all = false;
          break;
        }
      }
      if (all) return candidate;
    }
    return undefined;
  }

  return {
    async lookup({ job, mount, compiler, dir, cl }) {
      if (job.compiler === '') return { type: 'uncacheable', reason: 'the compiler is not identified' };
      const cwd = fromMountRelative(job.cwd, mount);
      const c = cacheability(job.argv, cwd, mount, cl);
      if (c.type !== 'cacheable') return c;
      const [binary, source] = await Promise.all([hashes.of(compiler), hashes.of(c.source)]);
      if (binary === undefined || source === undefined) return { type: 'uncacheable', reason: 'the compiler or the source cannot be read' };
      if (source.usesClock) return { type: 'uncacheable', reason: `${c.source} uses __DATE__, __TIME__ or __TIMESTAMP__` };
      const direct = directKey(c, { argv: job.argv, cwd, compiler: `${job.compiler}|${compiler}|${binary.hash}`, env: job.env, sourceHash: source.hash });
      const manifest = await readCacheFile(manifestPath(dir, direct), decodeManifest);
      if (manifest.type === 'corrupt') return { type: 'miss', note: manifest.reason };
      if (manifest.type === 'missing') return { type: 'miss' };
      const candidate = await matching(c, cwd, manifest.value.candidates);
      if (candidate === undefined) return { type: 'miss' };
      const file = entryPath(dir, candidate.result);
      const read = await readEntry(file, pool);
      if (read.type === 'corrupt') return { type: 'miss', note: read.reason };
      if (read.type === 'missing') return { type: 'miss' };
      const { entry, release } = read.value;
      try {
        await deliver(c, entry);
        touch(file);
        return { type: 'hit', stdout: Buffer.from(entry.stdout), stderr: Buffer.from(entry.stderr) };
      } finally {
        release();
      }
    },
  };
}

/** Writes the object and the depfile (with this checkout's paths), each by rename: never a half-written file, never a link to the entry. */
async function deliver(c: Cacheable, entry: CacheEntry): Promise<void> {
  await Promise.all([
    writeByRename(c.object, entry.object),
    writeByRename(c.depfile, unmarkText(entry.depfile, c.base)),
  ]);
}

/** Marks an entry used, for the janitor's least-recently-used order; a cache this user may not touch is left as it is. */
function touch(file: string): void {
  const now = new Date();
  utimes(file, now, now).catch((err: unknown) => {
    if (errnoCode(err) === undefined) throw err;
  });
}
