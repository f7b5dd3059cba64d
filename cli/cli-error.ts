/** Exit codes the command line promises (docs/cli.md#exit-codes). */
export const exitCodes = { ok: 0, failure: 1, usage: 2 } as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/**
 * An expected failure: printed as one line (no stack trace) and mapped to an exit code. Every
 * problem a person can fix (bad input, a server that is down, a refused key) ends up as one.
 */
export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode = exitCodes.failure) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, exitCodes.usage);
}
