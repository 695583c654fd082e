// The error every invalid setting raises: it names the setting, where it came from, and the fix.

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    /** The setting's camelCase key, when one is at fault. */
    readonly key?: string,
  ) {
    super(message);
  }
}
