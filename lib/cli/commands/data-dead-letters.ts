import {
  type DataDeadLetter,
  type DataQueue,
  decodeDataDeadLetter,
  MAX_DATA_ATTEMPTS,
} from '../../core/index.js';
import type { Command } from '../command.js';
import { wholeNumber } from '../arguments.js';
import { UsageError } from '../cli-errors.js';
import { PAGE_OPTIONS, pageFooter, pageRequest, type PageRequest } from '../paging.js';
import { itemCell } from '../output/data-cells.js';
import { renderTable } from '../output/table.js';
import { formatInstant, truncate } from '../output/text.js';
import {
  chosenRange,
  inSteps,
  plural,
  requeueRange,
  selectionSummary,
} from './letter-selection.js';

/** The dead letters of a data queue (`DataQueue.deadLetters`): items whose last lease ended. */

/** A dead letter as read: decoded, or, for bytes that are not one, why not. */
type ReadLetter =
  | { readonly index: number; readonly letter: DataDeadLetter; readonly problem?: undefined }
  | { readonly index: number; readonly raw: Buffer; readonly problem: string };

export const dataDeadListCommand: Command = {
  name: 'data dead list',
  args: '<queue>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'dead letters of a data queue, oldest first',
  description:
    "Lists a data queue's dead letters (items whose last lease ended without done), oldest " +
    'first: the item, its id, the leases it had (ATTEMPTS) and when the last one ended. INDEX ' +
    'is what --offset counts, for requeue and remove. Changes nothing.',
  options: PAGE_OPTIONS,
  examples: [
    'nestjs-delayed data dead list clicks',
    'nestjs-delayed data dead list clicks --json --limit 1000',
  ],
  async run(input, { session, output }) {
    const page = pageRequest(input.values);
    const queue = session.dataQueue(input.positionals[0]!);
    const [letters, total] = await Promise.all([read(queue, page), queue.deadLetters.count()]);
    const items = letters.map((read) =>
      read.problem === undefined
        ? {
            index: read.index,
            id: read.letter.id,
            attempts: read.letter.attempts,
            diedAt: read.letter.diedAt,
            item: read.letter.item,
          }
        : {
            index: read.index,
            id: null,
            attempts: null,
            diedAt: null,
            item: null,
            problem: read.problem,
            letterBase64: read.raw,
          },
    );
    output.result({ queue: queue.name, total, offset: page.offset, items }, () => {
      const footer = pageFooter(page, items.length, total, 'dead letters', queue.name);
      if (items.length === 0) return footer;
      const table = renderTable(
        [
          { header: 'INDEX', align: 'right' },
          { header: 'DIED AT' },
          { header: 'ID' },
          { header: 'ATTEMPTS', align: 'right' },
          { header: 'ITEM' },
        ],
        letters.map((read) =>
          read.problem === undefined
            ? [
                String(read.index),
                formatInstant(read.letter.diedAt),
                read.letter.id,
                String(read.letter.attempts),
                itemCell(read.letter.item),
              ]
            : [String(read.index), '-', '-', '-', truncate(`(unreadable: ${read.problem})`, 60)],
        ),
      );
      return `${table}\n${footer}`;
    });
  },
};

export const dataDeadRequeueCommand: Command = {
  name: 'data dead requeue',
  args: '<queue>',
  minArgs: 1,
  maxArgs: 1,
  summary: "puts a data queue's dead letters back (--all, or --offset/--limit)",
  description:
    "Makes dead letters' items available again at the tail of the data queue, under their ids, " +
    'and removes them from the dead letters, atomically per letter. Each item gets as many ' +
    'leases as it had (its ATTEMPTS), or --attempts, and becomes a dead letter again if they ' +
    'all end without done. --all takes every letter; --limit <n> (with --offset) takes the ones ' +
    '`data dead list` shows at those indexes now. A letter that is gone meanwhile (requeued ' +
    'or removed by someone else) is skipped, and so is one that cannot be read.',
  options: {
    all: { type: 'boolean', description: 'requeue every dead letter of the data queue' },
    offset: { type: 'string', value: '<n>', description: 'index of the first letter (default 0)' },
    limit: { type: 'string', value: '<n>', description: 'how many letters to requeue' },
    attempts: {
      type: 'string',
      value: '<n>',
      description: `leases each item gets, 1 to ${MAX_DATA_ATTEMPTS} (default: as many as it had)`,
    },
  },
  examples: [
    'nestjs-delayed data dead requeue clicks --all',
    'nestjs-delayed data dead requeue clicks --offset 3 --limit 1 --attempts 5',
  ],
  async run(input, { session, output }) {
    const range = requeueRange(input, 'data dead requeue');
    const attempts = wholeNumber(input.values, 'attempts', { min: 1, max: MAX_DATA_ATTEMPTS });
    const name = input.positionals[0]!;
    const queue = session.dataQueue(name);
    const letters = await read(
      queue,
      range ?? { offset: 0, limit: await queue.deadLetters.count() },
    );
    const readable = letters.flatMap((read) => (read.problem === undefined ? [read.letter] : []));
    let done = 0;
    for (const run of runsOfAttempts(readable, attempts)) {
      for (const step of inSteps(run.letters)) {
        done += await queue.deadLetters.requeue(step, undefined, { attempts: run.attempts });
      }
    }
    const selected = letters.length;
    const unreadable = selected - readable.length;
    output.result({ queue: name, selected, requeued: done, unreadable }, () => {
      const line = selectionSummary(
        `Requeued ${plural(done, 'dead letter')} into ${name}`,
        readable.length,
        done,
      );
      if (unreadable === 0) return line;
      return (
        `${line}\n${plural(unreadable, 'letter')} could not be read and stayed` +
        ' (data dead list shows them; data dead remove deletes them).'
      );
    });
  },
};

export const dataDeadRemoveCommand: Command = {
  name: 'data dead remove',
  args: '<queue>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'deletes the dead letters of a data queue at --offset/--limit',
  description:
    'Reads the dead letters at those indexes (as `data dead list` shows them now), then ' +
    'deletes exactly those, named by their stored bytes: letters added or trimmed meanwhile ' +
    'are not touched by mistake. Letters that cannot be read are deleted too.',
  options: {
    offset: { type: 'string', value: '<n>', description: 'index of the first letter (default 0)' },
    limit: { type: 'string', value: '<n>', description: 'how many letters to delete (required)' },
  },
  examples: ['nestjs-delayed data dead remove clicks --offset 0 --limit 10'],
  async run(input, { session, output }) {
    const range = chosenRange(input, 'data dead remove', { all: false });
    const queue = session.dataQueue(input.positionals[0]!);
    // remove() names a letter by its bytes only: an unreadable one is named the same way.
    const letters = (await read(queue, range)).map((read) =>
      read.problem === undefined
        ? read.letter
        : { id: '', item: null, attempts: 0, diedAt: 0, raw: read.raw },
    );
    let done = 0;
    for (const step of inSteps(letters)) done += await queue.deadLetters.remove(step);
    const selected = letters.length;
    output.result({ queue: queue.name, selected, removed: done }, () =>
      selectionSummary(`Removed ${plural(done, 'dead letter')} of ${queue.name}`, selected, done),
    );
  },
};

export const dataDeadPurgeCommand: Command = {
  name: 'data dead purge',
  args: '<queue>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'deletes every dead letter of a data queue (needs --yes)',
  description:
    'Deletes every dead letter of the data queue at once; its items stay. Refuses without ' +
    '--yes (exit code 2).',
  options: { yes: { type: 'boolean', description: 'confirm: delete them all' } },
  examples: ['nestjs-delayed data dead purge clicks --yes'],
  async run(input, { session, output }) {
    const name = input.positionals[0]!;
    if (input.values['yes'] !== true) {
      throw new UsageError(
        `data dead purge deletes every dead letter of data queue ${name}; add --yes to confirm`,
        'data dead purge',
      );
    }
    const purged = await session.dataQueue(name).deadLetters.purge();
    output.result(
      { queue: name, purged },
      () => `Purged ${plural(purged, 'dead letter')} of ${name}.`,
    );
  },
};

export const DATA_DEAD_LETTER_COMMANDS: readonly Command[] = [
  dataDeadListCommand,
  dataDeadRequeueCommand,
  dataDeadRemoveCommand,
  dataDeadPurgeCommand,
];

/** The letters at a range of indexes, each decoded if it can be; one bounded step. */
async function read(queue: DataQueue, range: PageRequest): Promise<ReadLetter[]> {
  if (range.limit === 0) return [];
  const { redis, keys } = queue;
  const raws = await queue.command(
    () => redis.lrangeBuffer(keys.dead, range.offset, range.offset + range.limit - 1),
    'reading dead letters',
  );
  return raws.map((raw, i) => readLetter(range.offset + i, raw));
}

/** A stored dead letter, decoded; or, if it is not a data dead letter, why not. */
function readLetter(index: number, raw: Buffer): ReadLetter {
  let letter: DataDeadLetter;
  try {
    letter = decodeDataDeadLetter(raw);
  } catch (error) {
    const message = (error as Error).message;
    // MessagePack, but not the shape of a data dead letter.
    if (message.startsWith('Not a data dead letter')) {
      return { index, raw, problem: 'not a data dead letter' };
    }
    return { index, raw, problem: `not MessagePack: ${message}` };
  }
  const { attempts, diedAt } = letter;
  const valid =
    Number.isInteger(attempts) &&
    attempts >= 1 &&
    attempts <= MAX_DATA_ATTEMPTS &&
    Number.isFinite(diedAt);
  return valid ? { index, letter } : { index, raw, problem: 'not a data dead letter' };
}

/**
 * The letters in order, cut into runs that get the same attempts (each letter's own, or
 * `attempts` for all): each run is requeued by a queue with those attempts, in order.
 */
function runsOfAttempts(
  letters: readonly DataDeadLetter[],
  attempts: number | undefined,
): { attempts: number; letters: DataDeadLetter[] }[] {
  const runs: { attempts: number; letters: DataDeadLetter[] }[] = [];
  for (const letter of letters) {
    const wanted = attempts ?? letter.attempts;
    const last = runs[runs.length - 1];
    if (last !== undefined && last.attempts === wanted) last.letters.push(letter);
    else runs.push({ attempts: wanted, letters: [letter] });
  }
  return runs;
}
