// Translates a command line from the client's mount path to the worker's, where paths are accessed.
//
// Paths the compiler opens (sources, -I, -o, -L, @files…) move to the worker's mount.
// Text that ends up inside the outputs stays the client's: -D values, -MT targets,
// run-time paths (-Wl,-rpath), and the replacement side of -f*-prefix-map. Compiles
// also get -ffile-prefix-map=WORKER=CLIENT, so debug info and __FILE__ name the
// client's paths and objects stay byte-identical to a local build.
import { translateText } from '../common/mount-path.js';

const KEEP_NEXT = new Set(['-D', '-U', '-MT', '-MQ']);
const PREFIX_MAP = /^(-f(?:file|debug|macro|profile)-prefix-map=)(.*)$/;
const RPATH = new Set(['-rpath', '--rpath', '-R']);
const GCC_LIKE = /^(.*-)?(gcc|g\+\+|cc|c\+\+|clang|clang\+\+)(-[\d.]+)?$/;

export function translateCommand(argv: readonly string[], from: string, to: string, isCompile: boolean): string[] {
  if (from === to) return [...argv];
  const out: string[] = [];
  let keepNext = false;
  let xlinkerRpath = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (keepNext) {
      out.push(arg);
      keepNext = false;
      continue;
    }
    if (KEEP_NEXT.has(arg)) {
      out.push(arg);
      keepNext = true;
      continue;
    }
    if (arg === '-Xlinker') {
      const value = argv[i + 1];
      out.push(arg);
      if (value !== undefined) {
        out.push(xlinkerRpath ? value : translateText(value, from, to));
        xlinkerRpath = RPATH.has(value);
        i++;
      }
      continue;
    }
    if (/^-[DU]/.test(arg) || /^-M[TQ]./.test(arg)) {
      out.push(arg);
      continue;
    }
    const map = PREFIX_MAP.exec(arg);
    if (map !== null) {
      const body = map[2] ?? '';
      const eq = body.lastIndexOf('=');
      out.push(eq < 0 ? arg : `${map[1]}${translateText(body.slice(0, eq), from, to)}${body.slice(eq)}`);
      continue;
    }
    if (arg.startsWith('-Wl,')) {
      const parts = arg.slice(4).split(',');
      let rpathNext = false;
      const translated = parts.map((p) => {
        const keep = rpathNext || /^--?rpath=/.test(p);
        rpathNext = RPATH.has(p);
        return keep ? p : translateText(p, from, to);
      });
      out.push(`-Wl,${translated.join(',')}`);
      continue;
    }
    out.push(translateText(arg, from, to));
  }
  const tool = (out[0] ?? '').split('/').pop() ?? '';
  if (isCompile && GCC_LIKE.test(tool)) out.splice(1, 0, `-ffile-prefix-map=${to}=${from}`);
  return out;
}
