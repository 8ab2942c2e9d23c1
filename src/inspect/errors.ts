/** A room or peer that does not exist (exit code 1, message printed as is). */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}
