/** What the q command's exit status means; scripts may rely on these. */
export const exitCodes = {
  /** Done. */
  ok: 0,
  /** The operation failed: task or queue not found, not allowed in the task's state, refused. */
  failure: 1,
  /** The command line was wrong: unknown command, missing or invalid flag. */
  usage: 2,
  /** Redis could not be reached, or refused the credentials. */
  unreachable: 3,
  /** `doctor` found a problem (an error or a warning). */
  problemsFound: 4,
  /** Interrupted (Ctrl-C) before finishing. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** An error the command reports as it is, with its exit code. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = exitCodes.failure, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
