// Which compiles the result cache may hold, and the direct-mode keys that find their entries.
//
// A key is computed from the command as the client wrote it (client-side paths), by the agent
// before it looks up and again by the worker before it stores: the worker never trusts a key a
// client sends. Paths are keyed as written, except under a checkout's `base`: the directory
// named by the -ffile-prefix-map (or matching -fdebug- and -fmacro-prefix-map) that covers the
// working directory. gcc then records no path under it, so the same compile in another checkout
// on the mount writes the same bytes, and its key, with the base replaced by a mark, is the same.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { parseCommandLine, type CommandLine } from './command-line.js';
import { isIdentifiedCompiler } from './compiler-identity.js';
import { isUnder, translateText } from './mount-path.js';

/** The format of keys, manifests and entries; a change of layout changes it, so old entries are never read. */
export const CACHE_FORMAT = 'distbuild-cache-1';

/** What stands for a checkout's base in normalized arguments, manifests and depfiles. */
export const BASE_MARK = '@DISTBUILD_BASE@';

export type Cacheable = Extract<Cacheability, { type: 'cacheable' }>;

export type Cacheability =
  | {
      readonly type: 'cacheable';
      readonly cl: CommandLine;
      /** Absolute paths (client side) of the source, the object and the depfile. */
      readonly source: string;
      readonly object: string;
      readonly depfile: string;
      /** The checkout's base (see above), or undefined: paths are keyed as written. */
      readonly base: string | undefined;
    }
  | { readonly type: 'uncacheable'; readonly reason: string };

/** Options whose value (joined or the next argument) is a path, normalized under the base. */
const PATH_VALUED = ['-o', '-MF', '-MT', '-MQ', '-I', '-isystem', '-iquote', '-idirafter', '-include', '-imacros'];
/** A base must be a plain path: it is replaced as text, in arguments and in depfiles. */
const PLAIN_PATH = /^\/[\w.+/-]+$/;

const uncacheable = (reason: string): Cacheability => ({ type: 'uncacheable', reason });

/**
 * Whether the result of `argv`, run in `cwd` (absolute, client side), may come from the cache,
 * and how it is keyed; `parsed` is argv's CommandLine when the caller has it already.
 */
export function cacheability(argv: readonly string[], cwd: string, mount: string, parsed?: CommandLine): Cacheability {
  if (!isIdentifiedCompiler(argv[0] ?? '')) return uncacheable(`${argv[0] ?? ''} is not a compiler the cache knows`);
  const cl = parsed ?? parseCommandLine(argv);
  if (cl.mode !== 'compile' || !argv.includes('-c')) return uncacheable('not a compile to an object (-c)');
  if (cl.inputs.length !== 1 || cl.inputs[0] === undefined) return uncacheable('not exactly one source');
  if (cl.readsStdin || cl.responseFiles.length > 0) return uncacheable('reads stdin or a response file');
  if (cl.outputNameLeaks) return uncacheable('a flag derives other files from the output name');
  if (!cl.hasDepfile) return uncacheable('no depfile (-MD), which direct mode needs to know the headers');
  if (argv.some((a) => a.startsWith('-fplugin') || a === '-fsyntax-only' || a.startsWith('-specs') || a === '-save-temps')) {
    return uncacheable('a flag the cache does not handle');
  }
  const object = cl.outputs.find((o) => o.role === 'output')?.path;
  if (object === undefined) return uncacheable('no -o');
  const named = cl.outputs.find((o) => o.role === 'depfile')?.path;
  const depfile = named ?? path.join(path.dirname(object), `${path.basename(object).replace(/\.[^./]*$/, '')}.d`);
  return {
    type: 'cacheable',
    cl,
    source: path.resolve(cwd, cl.inputs[0]),
    object: path.resolve(cwd, object),
    depfile: path.resolve(cwd, depfile),
    base: checkoutBase(argv, cwd, mount),
  };
}

/** OLD → NEW of each prefix map, by kind: 'file' maps count as both 'debug' and 'macro'. */
function prefixMaps(argv: readonly string[]): { debug: Map<string, string>; macro: Map<string, string> } {
  const debug = new Map<string, string>();
  const macro = new Map<string, string>();
  for (const arg of argv) {
    const m = /^-f(file|debug|macro)-prefix-map=([^=]*)=(.*)$/.exec(arg);
    if (m === null) continue;
    const [, kind, from = '', to = ''] = m;
    if (kind !== 'macro') debug.set(from, to);
    if (kind !== 'debug') macro.set(from, to);
  }
  return { debug, macro };
}

/** The longest directory mapped by both a debug and a macro map that holds `cwd`, strictly inside the mount, whose new name does not name it. */
function checkoutBase(argv: readonly string[], cwd: string, mount: string): string | undefined {
  const { debug, macro } = prefixMaps(argv);
  let best: string | undefined;
  for (const [from, to] of debug) {
    if (macro.get(from) !== to || !PLAIN_PATH.test(from) || from !== path.normalize(from) || from.endsWith('/')) continue;
    if (!isUnder(cwd, from) || !isUnder(from, mount) || from === mount || to.includes(from)) continue;
    if (best === undefined || from.length > best.length) best = from;
  }
  if (best === undefined) return undefined;
  // A map of an ancestor of the base would record the base's own name.
  const chosen = best;
  const ancestorMapped = [...debug.keys(), ...macro.keys()].some((from) => from !== chosen && chosen.startsWith(from));
  return ancestorMapped ? undefined : chosen;
}

/** `p` with a leading base replaced by the mark. */
function markPath(p: string, base: string): string {
  return p === base || p.startsWith(`${base}/`) ? BASE_MARK + p.slice(base.length) : p;
}

/** The arguments as keyed: under a base, path-valued arguments (and prefix maps' old names) start with the mark. */
export function normalizeArgs(argv: readonly string[], source: string | undefined, base: string | undefined): string[] {
  if (base === undefined) return [...argv];
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const flag = PATH_VALUED.find((f) => arg === f);
    if (flag !== undefined && i + 1 < argv.length) {
      out.push(arg, markPath(argv[i + 1] ?? '', base));
      i++;
      continue;
    }
    const joined = PATH_VALUED.find((f) => arg.startsWith(f) && arg.length > f.length && arg[f.length] === '/');
    const map = /^(-f(?:file|debug|macro)-prefix-map=)([^=]*)(=.*)$/.exec(arg);
    if (joined !== undefined) out.push(joined + markPath(arg.slice(joined.length), base));
    else if (map !== null) out.push(`${map[1] ?? ''}${markPath(map[2] ?? '', base)}${map[3] ?? ''}`);
    else if (arg === source) out.push(markPath(arg, base));
    else out.push(arg);
  }
  return out;
}

/** A depfile's (or manifest path's) text with the base replaced by the mark, or the mark by `base`. */
export const markText = (text: string, base: string | undefined): string => (base === undefined ? text : translateText(text, base, BASE_MARK));
export const unmarkText = (text: string, base: string | undefined): string => (base === undefined ? text : translateText(text, BASE_MARK, base));

export interface DirectKeyInput {
  readonly argv: readonly string[];
  readonly cwd: string;
  /** The compiler's fingerprint: identity, real path and a hash of the binary. */
  readonly compiler: string;
  /** The job's environment as it travels ("NAME" → value). */
  readonly env: Readonly<Record<string, string>>;
  /** The hash of the source's content. */
  readonly sourceHash: string;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The direct-mode key: compiler, arguments, working directory, environment and source, with the checkout's base marked. */
export function directKey(c: Cacheable, input: DirectKeyInput): string {
  const argv = normalizeArgs(input.argv, c.cl.inputs[0], c.base);
  const cwd = c.base === undefined ? input.cwd : markPath(input.cwd, c.base);
  const env = Object.entries(input.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha256(JSON.stringify([CACHE_FORMAT, 'c', input.compiler, cwd, env, argv, input.sourceHash]));
}

/** One header a manifest lists: its path (marked as in a depfile) and the hash of its content. */
export interface ManifestFile {
  readonly path: string;
  readonly hash: string;
}

/** The key of the entry the direct key leads to when the headers hash so. */
export function resultKey(direct: string, files: readonly ManifestFile[]): string {
  return sha256(JSON.stringify([CACHE_FORMAT, 'r', direct, files.map((f) => [f.path, f.hash])]));
}
