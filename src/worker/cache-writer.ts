// Stores a successful compile's result in the shared cache, under a key computed from what this worker read.
import path from 'node:path';
import { cacheability, directKey, markText, resultKey, type Cacheable, type ManifestFile } from '../common/cache-key.js';
import {
  MAX_CANDIDATES, decodeManifest, encodeEntry, encodeManifest, entryPath, manifestPath, readCacheFile, writeCacheFile, type ManifestCandidate,
} from '../common/cache-files.js';
import { depfilePrerequisites } from '../common/depfile.js';
import type { FileHashes } from '../common/file-hashes.js';
import { fromMountRelative, isUnder } from '../common/mount-path.js';
import type { Job } from '../protocol/messages.js';

/** One compile that succeeded, read before its outputs were published. */
export interface StoreInput {
  readonly job: Job;
  /** The real path of the compiler the worker ran. */
  readonly executable: string;
  /** Wall-clock time the command started: a file changed since may not be what it read. */
  readonly startedMs: number;
  readonly object: Buffer;
  /** The depfile's text, with the client's paths. */
  readonly depfile: string;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

/** Why a result was not stored, or 'stored'. */
export type StoreOutcome = { readonly type: 'stored'; readonly bytes: number } | { readonly type: 'skipped'; readonly reason: string };

export interface CacheWriter {
  /** How this job's result is keyed, if it is worth reading before it is published. */
  wants(job: Job): Cacheable | undefined;
  /** Stores the result of a job wants() took. */
  store(input: StoreInput, c: Cacheable): Promise<StoreOutcome>;
}

export interface CacheWriterOptions {
  /** The cache's directory, as this worker sees it. */
  readonly dir: string;
  /** This worker's path to the mount. */
  readonly mount: string;
  readonly hashes: FileHashes;
}

const skipped = (reason: string): StoreOutcome => ({ type: 'skipped', reason });

export function createCacheWriter(options: CacheWriterOptions): CacheWriter {
  const { dir, mount, hashes } = options;
  return {
    wants(job) {
      if (!job.cacheStore || job.compiler === '' || job.kind !== 'JOB_KIND_COMPILE') return undefined;
      const c = cacheability(job.argv, fromMountRelative(job.cwd, job.clientMount), job.clientMount);
      return c.type === 'cacheable' ? c : undefined;
    },
    async store(input, c) {
      const { job } = input;
      const cwd = fromMountRelative(job.cwd, job.clientMount);
      // The job's paths are the client's; this worker reads them under its own mount.
      const here = (p: string): string => (isUnder(p, job.clientMount) ? path.join(mount, path.relative(job.clientMount, p)) : p);
      /** The file's hash, or why it cannot stand in a key. */
      const hashOf = async (p: string): Promise<string | { reason: string }> => {
        const h = await hashes.of(here(p));
        if (h === undefined) return { reason: `${p} cannot be read` };
        if (h.usesClock) return { reason: `${p} uses __DATE__, __TIME__ or __TIMESTAMP__` };
        if (h.changedMs >= input.startedMs) return { reason: `${p} changed while the compile ran` };
        return h.hash;
      };
      const compiler = await hashes.of(input.executable);
      if (compiler === undefined) return skipped(`the compiler ${input.executable} cannot be read`);
      const source = await hashOf(c.source);
      if (typeof source !== 'string') return skipped(source.reason);
      const depText = input.depfile;
      const prerequisites = depfilePrerequisites(depText);
      if (prerequisites === undefined) return skipped(`its depfile ${c.depfile} is not one this reads`);
      const files: ManifestFile[] = [];
      for (const p of prerequisites) {
        const abs = path.resolve(cwd, p);
        if (abs === c.source) continue;
        const hash = await hashOf(abs);
        if (typeof hash !== 'string') return skipped(hash.reason);
        files.push({ path: markText(p, c.base), hash });
      }
      const direct = directKey(c, { argv: job.argv, cwd, compiler: `${job.compiler}|${input.executable}|${compiler.hash}`, env: job.env, sourceHash: source });
      const result = resultKey(direct, files);
      const entry = encodeEntry({ object: input.object, depfile: markText(depText, c.base), stdout: input.stdout, stderr: input.stderr });
      await writeCacheFile(entryPath(dir, result), entry);
      // The manifest is replaced, never edited: a writer that loses a race loses only its candidate.
      const old = await readCacheFile(manifestPath(dir, direct), decodeManifest);
      const kept = old.type === 'found' ? old.value.candidates.filter((x) => x.result !== result) : [];
      const candidates: ManifestCandidate[] = [{ files, result }, ...kept].slice(0, MAX_CANDIDATES);
      await writeCacheFile(manifestPath(dir, direct), encodeManifest({ candidates }));
      return { type: 'stored', bytes: entry.length };
    },
  };
}
