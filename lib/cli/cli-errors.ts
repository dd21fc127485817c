/**
 * The command line was wrong (an unknown command or option, a missing queue, a bad number):
 * exit code 2, one line, and a pointer to the help of `command` (the whole tool's when
 * undefined). Thrown before anything is sent to Redis.
 */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * The command ran but could not do what was asked (a scheduled task that is not there any
 * more): exit code 1, with this message. Whatever the command printed before stays printed.
 */
export class CommandFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandFailedError';
  }
}
