import { DelayedError, InvalidOptionsError, RedisUnavailableError } from '../core/index.js';
import { type CommandLine, globalSettings, parseCommandLine } from './arguments.js';
import { CommandFailedError, UsageError } from './cli-errors.js';
import { COMMANDS } from './commands/index.js';
import { commandHelp, groupHelp, TOOL, toolHelp } from './help.js';
import { Output, type Streams } from './output/output.js';
import { redactUrl, Session } from './session.js';
import { toolVersion } from './version.js';

/** Exit codes: done; a runtime failure (Redis, or a command that could not do it); a usage error. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * Runs one command line and returns its exit code. Never throws for an expected failure:
 * a usage error or a Redis one becomes one line on stderr. The connection, if one was
 * opened, is closed before this returns.
 */
export async function runCli(
  argv: readonly string[],
  streams: Streams,
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  let line: CommandLine;
  try {
    line = parseCommandLine(argv, COMMANDS);
  } catch (error) {
    return report(error, streams, undefined, undefined);
  }
  if (line.kind === 'version') {
    streams.stdout(toolVersion());
    return EXIT_OK;
  }
  if (line.kind === 'help') {
    streams.stdout(helpFor(line.topic));
    return EXIT_OK;
  }
  const { command, input } = line;
  let session: Session | undefined;
  try {
    const settings = globalSettings(input.values, env);
    session = new Session(settings.url, settings.timeout, settings.cluster);
    await command.run(input, { session, output: new Output(settings.json, streams) });
    return EXIT_OK;
  } catch (error) {
    return report(error, streams, command.name, session?.url);
  } finally {
    await session?.close();
  }
}

function helpFor(topic: string | undefined): string {
  if (topic === undefined) return toolHelp(COMMANDS, toolVersion());
  const command = COMMANDS.find((c) => c.name === topic);
  return command ? commandHelp(command) : groupHelp(topic, COMMANDS);
}

/** One line on stderr for a failure, and its exit code. */
function report(
  error: unknown,
  streams: Streams,
  command: string | undefined,
  url: string | undefined,
): number {
  const say = (message: string): void => streams.stderr(`${TOOL}: ${message}`);
  if (error instanceof UsageError || error instanceof InvalidOptionsError) {
    const topic = (error instanceof UsageError ? error.command : undefined) ?? command;
    say(`${error.message} (see '${TOOL}${topic ? ` ${topic}` : ''} --help')`);
    return EXIT_USAGE;
  }
  if (error instanceof RedisUnavailableError) {
    say(`${error.message} (--url ${url === undefined ? '?' : redactUrl(url)})`);
    return EXIT_FAILURE;
  }
  if (error instanceof CommandFailedError || error instanceof DelayedError) {
    say(error.message);
    return EXIT_FAILURE;
  }
  if (error instanceof Error && isRedisError(error)) {
    say(`Redis answered with an error: ${error.message}`);
    return EXIT_FAILURE;
  }
  // Not a failure we know: a bug, so its stack is worth having.
  say(
    `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  return EXIT_FAILURE;
}

/** Errors of ioredis: a command Redis refused, or a connection given up on. */
function isRedisError(error: Error): boolean {
  return (
    error.name === 'ReplyError' ||
    error.name === 'MaxRetriesPerRequestError' ||
    /^Connection is closed|^Stream isn't writeable/.test(error.message)
  );
}
