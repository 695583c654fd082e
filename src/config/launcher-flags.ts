// Parses the launcher's own flags (those before `--`) without yargs, from the options table.
import { ConfigError } from './config-error.js';
import { MODES, OPTION_SPECS, flagName, type OptionKey } from './options.js';

export interface LauncherArgs {
  readonly mode: 'compiler' | 'linker';
  /** Setting → raw value. */
  readonly flags: Map<OptionKey, unknown>;
  /** The command to run: compiler or linker and its arguments. */
  readonly command: string[];
}

/** Each setting by its flag name ("fs-mount"). */
const BY_FLAG = new Map(OPTION_SPECS.map((s) => [flagName(s.key), s]));

export function parseLauncherArgs(argv: readonly string[]): LauncherArgs {
  const sep = argv.indexOf('--');
  const own = sep >= 0 ? argv.slice(0, sep) : argv;
  const command = sep >= 0 ? argv.slice(sep + 1) : [];
  let mode: 'compiler' | 'linker' | undefined;
  const flags = new Map<OptionKey, unknown>();
  for (let i = 0; i < own.length; i++) {
    const arg = own[i] ?? '';
    if (arg === '--compiler' || arg === '--linker') {
      mode = arg === '--compiler' ? 'compiler' : 'linker';
      continue;
    }
    if (!arg.startsWith('--')) {
      throw new ConfigError(`unexpected argument "${arg}" before "--"; put the command after "--": distbuild --compiler -- g++ -c a.cpp`);
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq >= 0 ? eq : undefined);
    const negated = name.startsWith('no-') && eq < 0;
    const spec = BY_FLAG.get(negated ? name.slice(3) : name);
    if (spec?.asFlag === false) {
      throw new ConfigError(`"--${name}" is not accepted on the command line, where ps would show it: set ${'DISTBUILD_' + name.toUpperCase().replace(/-/g, '_')}, ${name.replace(/-/g, '_')} in the config file, or --token-file`, spec.key);
    }
    if (spec === undefined || MODES.some((m) => m === name)) {
      throw new ConfigError(`unknown flag "--${name}" for a launcher; see "distbuild --help"`);
    }
    if (spec.type === 'boolean') {
      flags.set(spec.key, negated ? false : eq >= 0 ? arg.slice(eq + 1) : true);
    } else if (eq >= 0) {
      flags.set(spec.key, arg.slice(eq + 1));
    } else {
      const value = own[i + 1];
      if (value === undefined) throw new ConfigError(`the flag "--${name}" needs a value`, spec.key);
      flags.set(spec.key, value);
      i++;
    }
  }
  if (mode === undefined) throw new ConfigError('a launcher needs --compiler or --linker');
  if (command.length === 0 || command[0] === '') {
    throw new ConfigError(`no command given after "--": distbuild --${mode} -- ${mode === 'compiler' ? 'g++ -c a.cpp -o a.o' : 'g++ a.o -o app'}`);
  }
  return { mode, flags, command };
}
