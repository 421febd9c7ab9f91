/** A CLI failure: one line on stderr, then this exit code (1 not found, 2 usage). */
export class CliExit extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
