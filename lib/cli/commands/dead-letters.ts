import { type DeadLetter, type Queue, summarizeTask } from '../../core/index.js';
import type { Command } from '../command.js';
import { UsageError } from '../cli-errors.js';
import {
  chosenRange,
  inSteps,
  plural,
  requeueRange,
  selectionSummary,
} from './letter-selection.js';
import { PAGE_OPTIONS, pageFooter, pageRequest, type PageRequest } from '../paging.js';
import { renderTable } from '../output/table.js';
import { taskArgsCell, taskNameCell } from '../output/task-cells.js';
import { formatInstant, truncate } from '../output/text.js';

/** How wide an ERROR cell may grow before it is cut. */
const ERROR_WIDTH = 60;

export const deadListCommand: Command = {
  name: 'dead list',
  args: '<queue>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'dead letters, oldest first, with why each died',
  description:
    "Lists a queue's dead letters (tasks that failed their last attempt, named no handler, or " +
    'could not be decoded), oldest first. INDEX is what --offset counts, for requeue and remove.',
  options: PAGE_OPTIONS,
  examples: [
    'nestjs-delayed dead list orders',
    'nestjs-delayed dead list orders --json --limit 1000',
  ],
  async run(input, { session, output }) {
    const page = pageRequest(input.values);
    const queue = session.queue(input.positionals[0]!);
    const [letters, total] = await Promise.all([read(queue, page), count(queue)]);
    const items = letters.map((letter, i) => ({
      index: page.offset + i,
      failedAt: letter.failedAt,
      reason: letter.reason,
      error: letter.error,
      funcPath: letter.funcPath,
      task: summarizeTask(letter.task),
      taskBase64: letter.task,
    }));
    output.result({ queue: queue.name, total, offset: page.offset, items }, () => {
      const footer = pageFooter(page, items.length, total, 'dead letters', queue.name);
      if (items.length === 0) return footer;
      const table = renderTable(
        [
          { header: 'INDEX', align: 'right' },
          { header: 'FAILED AT' },
          { header: 'REASON' },
          { header: 'TASK' },
          { header: 'ARGS' },
          { header: 'ERROR' },
        ],
        items.map((item) => [
          String(item.index),
          formatInstant(item.failedAt),
          item.reason,
          item.task.kind === 'unreadable'
            ? (item.funcPath ?? '(unreadable)')
            : taskNameCell(item.task),
          item.task.kind === 'unreadable' ? '' : taskArgsCell(item.task),
          truncate(item.error, ERROR_WIDTH),
        ]),
      );
      return `${table}\n${footer}`;
    });
  },
};

export const deadRequeueCommand: Command = {
  name: 'dead requeue',
  args: '<queue>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'puts dead letters back into the queue (--all, or --offset/--limit)',
  description:
    'Puts dead letters back at the tail of their queue, as they were, and removes them from the ' +
    'dead letters, atomically per letter. --all takes every one; --limit <n> (with --offset) ' +
    'takes the ones `dead list` shows at those indexes now. A letter that is gone meanwhile ' +
    '(requeued or removed by someone else) is skipped.',
  options: {
    all: { type: 'boolean', description: 'requeue every dead letter of the queue' },
    offset: { type: 'string', value: '<n>', description: 'index of the first letter (default 0)' },
    limit: { type: 'string', value: '<n>', description: 'how many letters to requeue' },
  },
  examples: [
    'nestjs-delayed dead requeue orders --all',
    'nestjs-delayed dead requeue orders --offset 3 --limit 1',
  ],
  async run(input, { session, output }) {
    const range = requeueRange(input, 'dead requeue');
    const queue = session.queue(input.positionals[0]!);
    const letters = await read(queue, range ?? { offset: 0, limit: await count(queue) });
    let done = 0;
    for (const chunk of inSteps(letters)) {
      done += await queue.command(
        () => queue.deadLetters.requeue(chunk),
        'requeueing dead letters',
      );
    }
    const selected = letters.length;
    output.result({ queue: queue.name, selected, requeued: done }, () =>
      selectionSummary(
        `Requeued ${plural(done, 'dead letter')} into ${queue.name}`,
        selected,
        done,
      ),
    );
  },
};

export const deadRemoveCommand: Command = {
  name: 'dead remove',
  args: '<queue>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'deletes the dead letters at --offset/--limit',
  description:
    'Reads the dead letters at those indexes (as `dead list` shows them now), then deletes ' +
    'exactly those, named by their stored bytes: letters added or trimmed meanwhile are not ' +
    'touched by mistake.',
  options: {
    offset: { type: 'string', value: '<n>', description: 'index of the first letter (default 0)' },
    limit: { type: 'string', value: '<n>', description: 'how many letters to delete (required)' },
  },
  examples: ['nestjs-delayed dead remove orders --offset 0 --limit 10'],
  async run(input, { session, output }) {
    const range = chosenRange(input, 'dead remove', { all: false });
    const queue = session.queue(input.positionals[0]!);
    const letters = await read(queue, range);
    let done = 0;
    for (const chunk of inSteps(letters)) {
      done += await queue.command(() => queue.deadLetters.remove(chunk), 'removing dead letters');
    }
    const selected = letters.length;
    output.result({ queue: queue.name, selected, removed: done }, () =>
      selectionSummary(`Removed ${plural(done, 'dead letter')} of ${queue.name}`, selected, done),
    );
  },
};

export const deadPurgeCommand: Command = {
  name: 'dead purge',
  args: '<queue>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'deletes every dead letter of the queue (needs --yes)',
  description:
    'Deletes every dead letter of the queue at once. Refuses without --yes (exit code 2).',
  options: { yes: { type: 'boolean', description: 'confirm: delete them all' } },
  examples: ['nestjs-delayed dead purge orders --yes'],
  async run(input, { session, output }) {
    const name = input.positionals[0]!;
    if (input.values['yes'] !== true) {
      throw new UsageError(
        `dead purge deletes every dead letter of ${name}; add --yes to confirm`,
        'dead purge',
      );
    }
    const queue = session.queue(name);
    const purged = await queue.command(() => queue.deadLetters.purge(), 'purging dead letters');
    output.result(
      { queue: name, purged },
      () => `Purged ${plural(purged, 'dead letter')} of ${name}.`,
    );
  },
};

export const DEAD_LETTER_COMMANDS: readonly Command[] = [
  deadListCommand,
  deadRequeueCommand,
  deadRemoveCommand,
  deadPurgeCommand,
];

/** The letters at a range of indexes, bounded by the queue's timeout. */
function read(queue: Queue, range: PageRequest): Promise<DeadLetter[]> {
  if (range.limit === 0) return Promise.resolve([]);
  return queue.command(
    () => queue.deadLetters.list(range.offset, range.limit),
    'reading dead letters',
  );
}

function count(queue: Queue): Promise<number> {
  return queue.command(() => queue.deadLetters.count(), 'counting dead letters');
}
