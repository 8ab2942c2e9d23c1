/**
 * What the bench refuses before it runs, as a value with a code. Each is the caller's to fix (a
 * scenario that cannot be found, read or run); the command line says it as bad usage.
 */
export type BenchErrorCode = 'scenario_not_found' | 'scenario_not_json' | 'scenario_invalid';

export class BenchError extends Error {
  constructor(
    readonly code: BenchErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BenchError';
  }
}
