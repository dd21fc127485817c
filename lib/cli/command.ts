import type { Output } from './output/output.js';
import type { Session } from './session.js';

/** An option of a command, as node:util parseArgs takes it, with its help. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** How its value is shown in help, e.g. "<n>"; string options only. */
  readonly value?: string;
  readonly description: string;
}

/** A command line after parsing: the command's own positional arguments and option values. */
export interface CommandInput {
  readonly positionals: readonly string[];
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
}

export interface CommandContext {
  readonly session: Session;
  readonly output: Output;
}

/** One command of the tool, e.g. `stats` or `dead list`. */
export interface Command {
  /** Its words, e.g. "stats" or "dead list". */
  readonly name: string;
  /** Its arguments as help shows them, e.g. "<queue>". */
  readonly args: string;
  /** How many positional arguments it takes. */
  readonly minArgs: number;
  readonly maxArgs: number;
  /** One line for the list of commands. */
  readonly summary: string;
  /** What it does, for its own help; a few sentences. */
  readonly description: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly examples: readonly string[];
  /** Checks its input (throwing a UsageError before any Redis call), then does its work. */
  run(input: CommandInput, context: CommandContext): Promise<void>;
}
