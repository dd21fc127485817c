import type { Command, OptionSpec } from './command.js';
import { GLOBAL_OPTIONS, subcommandsOf } from './arguments.js';

/** The tool's name as people type it. */
export const TOOL = 'nestjs-delayed';

/** The help of the whole tool: every command, the global options, the exit codes. */
export function toolHelp(commands: readonly Command[], version: string): string {
  const usages = commands.map((c) => [`${c.name} ${c.args}`, c.summary] as const);
  return [
    `${TOOL} ${version}: look into and operate nestjs-delayed queues in Redis`,
    '',
    `Usage: ${TOOL} <command> [options]`,
    '',
    'Commands:',
    ...columns(usages),
    '',
    'Global options (before or after the command):',
    ...columns(optionRows(GLOBAL_OPTIONS)),
    '',
    'Exit codes: 0 done; 1 Redis unreachable, a Redis error, or the command could not do it;',
    '2 a usage error (nothing was sent to Redis).',
    `Run '${TOOL} <command> --help' for a command's options and examples.`,
  ].join('\n');
}

/** The help of one command. */
export function commandHelp(command: Command): string {
  const options = Object.keys(command.options);
  return [
    `Usage: ${TOOL} ${command.name} ${command.args}${options.length > 0 ? ' [options]' : ''}`,
    '',
    ...wrap(command.description, 88),
    ...(options.length > 0 ? ['', 'Options:', ...columns(optionRows(command.options))] : []),
    '',
    `Global options: ${Object.entries(GLOBAL_OPTIONS)
      .map(([name, spec]) => `--${name}${spec.value ? ` ${spec.value}` : ''}`)
      .join(', ')} (see ${TOOL} --help)`,
    '',
    'Examples:',
    ...command.examples.map((example) => `  ${example}`),
  ].join('\n');
}

/** The help of a group of commands such as `dead`. */
export function groupHelp(group: string, commands: readonly Command[]): string {
  const members = commands.filter((c) => c.name.startsWith(`${group} `));
  return [
    `Usage: ${TOOL} ${group} <${subcommandsOf(group, commands).join('|')}> ...`,
    '',
    ...columns(members.map((c) => [`${c.name} ${c.args}`, c.summary] as const)),
    '',
    `Run '${TOOL} ${group} <subcommand> --help' for its options.`,
  ].join('\n');
}

function optionRows(options: Readonly<Record<string, OptionSpec>>): (readonly [string, string])[] {
  return Object.entries(options).map(([name, spec]) => [
    `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` ${spec.value}` : ''}`,
    spec.description,
  ]);
}

/** Two columns, the first padded to its widest entry. */
function columns(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
