// Reads each setting from its sources (first source first, then the table's default), checked against its spec and typed by it.
import { parseDuration } from '../common/duration.js';
import { ConfigError } from './config-error.js';
import { OPTIONS, fileKey, type KeysOf, type OptionKey } from './options.js';
import type { RawSource } from './settings.js';

/** One raw value and where it came from, for error messages. */
interface Raw {
  readonly value: unknown;
  readonly where: string;
}

/** Typed readers over `sources`; each throws ConfigError naming the setting, its source and what was expected. */
export interface OptionReader {
  string(key: KeysOf<'string', true>): string;
  optionalString(key: KeysOf<'string', false>): string | undefined;
  integer(key: KeysOf<'integer', true>): number;
  optionalInteger(key: KeysOf<'integer', false>): number | undefined;
  boolean(key: KeysOf<'boolean', true>): boolean;
  /** Milliseconds. */
  duration(key: KeysOf<'duration', true>): number;
  list(key: KeysOf<'list', true>): readonly string[];
}

export function createOptionReader(sources: readonly RawSource[]): OptionReader {
  const raw = (key: OptionKey): Raw | undefined => {
    for (const s of sources) if (s.values.has(key)) return { value: s.values.get(key), where: s.label(key) };
    const d: unknown = OPTIONS[key].default;
    return d === undefined ? undefined : { value: d, where: `the default of ${fileKey(key)}` };
  };
  const bad = (key: OptionKey, r: Raw, expected: string): never => {
    throw new ConfigError(`${r.where}: ${JSON.stringify(r.value)} is not ${expected}`, key);
  };
  /** A setting with a default always has a value. */
  const present = (key: OptionKey): Raw => {
    const r = raw(key);
    if (r === undefined) throw new Error(`internal: the setting ${key} has no default`);
    return r;
  };
  const min = (key: OptionKey): number | undefined => {
    const spec = OPTIONS[key];
    return 'min' in spec ? spec.min : undefined;
  };
  const str = (key: OptionKey, r: Raw): string => {
    const spec = OPTIONS[key];
    const choices: readonly string[] | undefined = 'choices' in spec ? spec.choices : undefined;
    // A TOML boolean is one of the choices "true" and "false" (cache = false).
    const value = typeof r.value === 'boolean' && choices?.includes(String(r.value)) === true ? String(r.value) : r.value;
    if (typeof value !== 'string' || value === '') return bad(key, r, 'a non-empty string');
    if (choices !== undefined && !choices.includes(value)) return bad(key, r, `one of ${choices.join(', ')}`);
    return value;
  };
  const int = (key: OptionKey, r: Raw): number => {
    const n = typeof r.value === 'number' ? r.value : typeof r.value === 'string' && /^\s*\d+\s*$/.test(r.value) ? Number(r.value) : Number.NaN;
    if (!Number.isSafeInteger(n)) return bad(key, r, 'an integer');
    const least = min(key);
    if (least !== undefined && n < least) return bad(key, r, `an integer >= ${least}`);
    return n;
  };
  return {
    string: (key) => str(key, present(key)),
    optionalString(key) {
      const r = raw(key);
      return r === undefined ? undefined : str(key, r);
    },
    integer: (key) => int(key, present(key)),
    optionalInteger(key) {
      const r = raw(key);
      return r === undefined ? undefined : int(key, r);
    },
    boolean(key) {
      const r = present(key);
      if (typeof r.value === 'boolean') return r.value;
      const s = String(r.value).toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(s)) return true;
      if (['false', '0', 'no', 'off'].includes(s)) return false;
      return bad(key, r, 'a boolean (true or false)');
    },
    duration(key) {
      const r = present(key);
      const ms = typeof r.value === 'string' ? parseDuration(r.value) : undefined;
      if (ms === undefined) return bad(key, r, 'a duration with a unit, such as "500ms", "30s" or "5m"');
      const least = min(key);
      if (least !== undefined && ms < least) return bad(key, r, `a duration of at least ${least}ms`);
      return ms;
    },
    list(key) {
      const r = present(key);
      if (Array.isArray(r.value)) {
        const items: unknown[] = r.value;
        if (items.every((x): x is string => typeof x === 'string')) return items;
      }
      if (typeof r.value === 'string') return r.value.split(',').map((x) => x.trim()).filter((x) => x !== '');
      return bad(key, r, 'a list of strings');
    },
  };
}
