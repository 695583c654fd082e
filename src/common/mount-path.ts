// Maps paths between one host's view of the shared mount and another's.
import path from 'node:path';

/** True if `p` (absolute, normalized) is `mount` or lies under it. */
export function isUnder(p: string, mount: string): boolean {
  if (mount === '/') return p.startsWith('/');
  return p === mount || p.startsWith(`${mount}/`);
}

/** The mount-relative form of absolute `p` ("" for the root), or undefined if it is outside. */
export function toMountRelative(p: string, mount: string): string | undefined {
  const abs = path.resolve(p);
  if (!isUnder(abs, mount)) return undefined;
  return mount === '/' ? abs.slice(1) : abs.slice(mount.length + 1);
}

/** The absolute path of mount-relative `rel` on a host that mounts at `mount`. */
export function fromMountRelative(rel: string, mount: string): string {
  return rel === '' ? mount : path.join(mount, rel);
}

/** Characters after which a path may start inside an argument. */
const BEFORE = /[=,:;@\s"']$/;
/** A bare flag such as -I, -isystem, -L: the path may follow it directly. */
const FLAG = /^-[A-Za-z][A-Za-z_-]*$/;

/**
 * Replaces every occurrence of mount prefix `from` by `to` in one argument, where it
 * starts a path: at the start, after a flag (`-I/mnt/x`), or after `=`, `,`, `:`, `@`
 * or whitespace (`-Wl,-rpath,/mnt/x`, `-fdebug-prefix-map=/mnt/x=…`). The prefix must be
 * followed by `/`, the end, or a separator, so `/mnt/sharedfoo` is left alone.
 */
export function translateText(text: string, from: string, to: string): string {
  if (from === to || from === '' || !text.includes(from)) return text;
  let out = '';
  let last = 0;
  let at = text.indexOf(from);
  while (at !== -1) {
    const before = text.slice(0, at);
    const after = text[at + from.length];
    const startsPath = at === 0 || BEFORE.test(before) || FLAG.test(text.slice(lineStart(text, at), at));
    const endsPrefix = after === undefined || /[/=,:;\s"']/.test(after);
    if (startsPath && endsPrefix && at >= last) {
      out += text.slice(last, at) + to;
      last = at + from.length;
    }
    at = text.indexOf(from, at + from.length);
  }
  return out + text.slice(last);
}

function lineStart(text: string, at: number): number {
  const nl = Math.max(text.lastIndexOf('\n', at - 1), text.lastIndexOf(' ', at - 1));
  return nl + 1;
}

/** translateText over every argument. */
export function translateArgs(args: readonly string[], from: string, to: string): string[] {
  return args.map((a) => translateText(a, from, to));
}
