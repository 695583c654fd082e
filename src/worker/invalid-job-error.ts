// The error for a job a worker must refuse: its message names the problem and the setting.

export class InvalidJobError extends Error {
  override readonly name = 'InvalidJobError';
}
