import { parseArgs } from 'node:util';
import { connectionProblem, MAX_DURATION } from '../core/index.js';
import type { Command, CommandInput, OptionSpec } from './command.js';
import { UsageError } from './cli-errors.js';

/** Where the tool connects when neither --url nor REDIS_URL says. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** How long one step waits for Redis by default, in ms (the engine's redisTimeout). */
export const DEFAULT_TIMEOUT = 5_000;

/** Options every command takes, before or after its name. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  url: {
    type: 'string',
    value: '<url>',
    description: `Redis to use (default: $REDIS_URL, else ${DEFAULT_REDIS_URL})`,
  },
  cluster: {
    type: 'boolean',
    description: 'the URL names one node of a Redis Cluster (queue names then carry a hash tag)',
  },
  json: { type: 'boolean', description: 'print one JSON document instead of tables' },
  timeout: {
    type: 'string',
    value: '<ms>',
    description: `how long to wait for Redis to connect and to answer each step (default ${DEFAULT_TIMEOUT})`,
  },
  help: { type: 'boolean', short: 'h', description: 'show help (of a command: after its name)' },
  version: { type: 'boolean', description: "print the tool's version" },
};

export interface GlobalSettings {
  readonly url: string;
  /** Whether the URL is one node of a Redis Cluster. */
  readonly cluster: boolean;
  readonly json: boolean;
  readonly timeout: number;
}

/** What the command line asks for. */
export type CommandLine =
  | { readonly kind: 'run'; readonly command: Command; readonly input: CommandInput }
  /** Help: of one command, of a group ("dead"), or of the whole tool (topic undefined). */
  | { readonly kind: 'help'; readonly topic: string | undefined }
  | { readonly kind: 'version' };

/**
 * Reads the command line. Unknown commands and options, missing or extra arguments and
 * option values that are missing all throw a UsageError; nothing here touches Redis.
 */
export function parseCommandLine(
  argv: readonly string[],
  commands: readonly Command[],
): CommandLine {
  // First pass: every option any command knows, so that an option's value is never taken
  // for a word of the command's name, wherever the option stands.
  const everyOption = collectOptions(commands);
  const { positionals: words, values } = parse(argv, everyOption, undefined);
  const groups = groupsOf(commands);

  if (words[0] === 'help') return { kind: 'help', topic: findTopic(words.slice(1), commands) };
  if (words.length === 0) {
    if (values['help']) return { kind: 'help', topic: undefined };
    if (values['version']) return { kind: 'version' };
    throw new UsageError('no command given');
  }
  // A command's name is its first words ("stats", "dead list", "data dead list"); the words
  // after it are its arguments. No command's name is the start of another's.
  const command = commands.find((c) => startsWith(words, c.name.split(' ')));
  if (command === undefined) {
    // The longest group the words start with ("data dead" before "data"), if any.
    let group: string | undefined;
    for (let n = words.length; n > 0 && group === undefined; n--) {
      const prefix = words.slice(0, n).join(' ');
      if (groups.has(prefix)) group = prefix;
    }
    if (group === undefined) throw new UsageError(`unknown command "${words[0]!}"`);
    if (values['help']) return { kind: 'help', topic: group };
    const known = subcommandsOf(group, commands);
    const next = words[group.split(' ').length];
    throw new UsageError(
      next === undefined
        ? `${group} needs a subcommand: ${known.join(', ')}`
        : `unknown subcommand "${group} ${next}"; ${group} has ${known.join(', ')}`,
      group,
    );
  }
  if (values['help']) return { kind: 'help', topic: command.name };

  // Second pass: only this command's options and the global ones.
  const own = parse(argv, { ...GLOBAL_OPTIONS, ...command.options }, command.name);
  const positionals = own.positionals.slice(command.name.split(' ').length);
  if (positionals.length < command.minArgs) {
    throw new UsageError(`${command.name} needs ${command.args}`, command.name);
  }
  if (positionals.length > command.maxArgs) {
    throw new UsageError(
      `${command.name} takes ${command.args}, but got also ${JSON.stringify(positionals[command.maxArgs])}`,
      command.name,
    );
  }
  for (const queue of positionals) {
    if (queue === '') throw new UsageError('a queue name cannot be empty', command.name);
  }
  return { kind: 'run', command, input: { positionals, values: own.values } };
}

/** --url, --json and --timeout, with their defaults; a bad value is a UsageError. */
export function globalSettings(
  values: CommandInput['values'],
  env: Readonly<Record<string, string | undefined>>,
): GlobalSettings {
  const url = stringValue(values, 'url') ?? (env['REDIS_URL'] || DEFAULT_REDIS_URL);
  const problem = connectionProblem(url);
  if (problem !== undefined) throw new UsageError(problem.replace(/^connection/, '--url'));
  const timeout = wholeNumber(values, 'timeout', { min: 1, max: MAX_DURATION }) ?? DEFAULT_TIMEOUT;
  return { url, cluster: values['cluster'] === true, json: values['json'] === true, timeout };
}

/** A string option's value, or undefined when it was not given. */
export function stringValue(values: CommandInput['values'], name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * A whole-number option's value, checked against its range, or undefined when it was not
 * given. Only plain decimal digits count: "1e3", "0x10" and "5.0" are usage errors.
 */
export function wholeNumber(
  values: CommandInput['values'],
  name: string,
  range: { readonly min: number; readonly max: number },
): number | undefined {
  const text = stringValue(values, name);
  if (text === undefined) return undefined;
  const number = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!(number >= range.min && number <= range.max)) {
    throw new UsageError(
      `--${name} must be a whole number from ${range.min} to ${range.max}, got ${JSON.stringify(text)}`,
    );
  }
  return number;
}

function parse(
  argv: readonly string[],
  options: Readonly<Record<string, OptionSpec>>,
  command: string | undefined,
): { positionals: string[]; values: CommandInput['values'] } {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, spec] of Object.entries(options)) {
    config[name] =
      spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short };
  }
  try {
    const { positionals, values } = parseArgs({
      args: [...argv],
      options: config,
      strict: true,
      allowPositionals: true,
    });
    return { positionals, values: values as CommandInput['values'] };
  } catch (error) {
    throw new UsageError(describeParseError(error, command), command);
  }
}

/** node:util's parse errors, in our words: one line naming the option. */
function describeParseError(error: unknown, command: string | undefined): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  const option = /'(-[^' ]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option !== undefined) {
    return command === undefined
      ? `unknown option ${option}`
      : `${command} has no option ${option}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option !== undefined) {
    return message.includes('does not take')
      ? `${option} takes no value`
      : `${option} needs a value`;
  }
  return message.split('. ')[0]!;
}

/** Every option of every command and the global ones; one name has one type throughout. */
function collectOptions(commands: readonly Command[]): Record<string, OptionSpec> {
  const all: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS };
  for (const command of commands) {
    for (const [name, spec] of Object.entries(command.options)) {
      const seen = all[name];
      if (seen !== undefined && (seen.type !== spec.type || seen.short !== spec.short)) {
        // A programming error: the first pass could not read the command line both ways.
        throw new Error(`Option --${name} of ${command.name} differs from another command's`);
      }
      all[name] = spec;
    }
  }
  return all;
}

/** Every group of commands: each proper start of a command's name ("dead", "data", "data dead"). */
function groupsOf(commands: readonly Command[]): Set<string> {
  const groups = new Set<string>();
  for (const command of commands) {
    const words = command.name.split(' ');
    for (let n = 1; n < words.length; n++) groups.add(words.slice(0, n).join(' '));
  }
  return groups;
}

/** The words that may follow a group, in the order of the commands: "list", "requeue", ... */
export function subcommandsOf(group: string, commands: readonly Command[]): string[] {
  const size = group.split(' ').length;
  const next = commands
    .filter((c) => c.name.startsWith(`${group} `))
    .map((c) => c.name.split(' ')[size]!);
  return [...new Set(next)];
}

function startsWith(words: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= words.length && prefix.every((word, i) => words[i] === word);
}

/** The help topic `help <words>` names: a command, a group, or undefined for the tool. */
function findTopic(words: readonly string[], commands: readonly Command[]): string | undefined {
  if (words.length === 0) return undefined;
  const groups = groupsOf(commands);
  for (let n = words.length; n > 0; n--) {
    const prefix = words.slice(0, n).join(' ');
    if (groups.has(prefix) || commands.some((c) => c.name === prefix)) return prefix;
  }
  throw new UsageError(`no help on "${words.join(' ')}": there is no such command`);
}
