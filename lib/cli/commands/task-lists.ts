import { MAX_INSPECT_PAGE } from '../../core/index.js';
import type { Command } from '../command.js';
import { UsageError } from '../cli-errors.js';
import { stringValue, wholeNumber } from '../arguments.js';
import { DEFAULT_PAGE_SIZE, PAGE_OPTIONS, pageFooter, pageRequest } from '../paging.js';
import { renderTable } from '../output/table.js';
import { taskArgsCell, taskNameCell } from '../output/task-cells.js';
import { formatDuration, formatInstant, formatRelative } from '../output/text.js';

/** The listings of a queue's tasks: held by workers, waiting, scheduled for later. */

export const runningCommand: Command = {
  name: 'running',
  args: '<queue>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'tasks held by workers, with each worker id and whether it is alive',
  description:
    "Lists the tasks in the queue's processing hash with the worker (slot) id holding each. " +
    'ALIVE is whether that id\'s liveness key exists: "no" means the worker died or lost Redis ' +
    'for longer than its keepAliveTimeout, and a sweeper will put the task back. The hash is ' +
    'read with HSCAN, so a page may hold a few more or fewer entries than --limit; follow ' +
    '--cursor for the next page.',
  options: {
    limit: {
      type: 'string',
      value: '<n>',
      description: `about how many to show, 1 to ${MAX_INSPECT_PAGE} (default ${DEFAULT_PAGE_SIZE})`,
    },
    cursor: { type: 'string', value: '<c>', description: 'where to go on (from the page before)' },
  },
  examples: ['nestjs-delayed running orders', 'nestjs-delayed running orders --cursor 17'],
  async run(input, { session, output }) {
    const limit =
      wholeNumber(input.values, 'limit', { min: 1, max: MAX_INSPECT_PAGE }) ?? DEFAULT_PAGE_SIZE;
    const cursor = stringValue(input.values, 'cursor') ?? null;
    if (cursor !== null && !/^\d+$/.test(cursor)) {
      throw new UsageError(
        `--cursor takes the number a page before printed, got ${JSON.stringify(cursor)}`,
      );
    }
    const queue = input.positionals[0]!;
    const page = await session.inspector(queue).running(cursor, limit);
    output.result({ queue, items: page.items, next: page.next }, () => {
      const lines: string[] = [];
      if (page.items.length > 0) {
        lines.push(
          renderTable(
            [
              { header: 'WORKER ID' },
              { header: 'ALIVE' },
              { header: 'EXPIRES IN' },
              { header: 'TASK' },
              { header: 'ARGS' },
            ],
            page.items.map((item) => [
              item.workerId,
              item.alive ? 'yes' : 'NO',
              item.expiresIn === null ? '-' : formatDuration(item.expiresIn),
              taskNameCell(item.task),
              taskArgsCell(item.task),
            ]),
          ),
        );
        const dead = page.items.filter((item) => !item.alive).length;
        if (dead > 0) {
          lines.push(
            `${dead} of these ${page.items.length} held by a dead worker: a sweeper will requeue ${dead === 1 ? 'it' : 'them'}.`,
          );
        }
      } else {
        lines.push(page.next === null ? `No running tasks in ${queue}.` : 'Nothing on this page.');
      }
      if (page.next !== null) lines.push(`More: --cursor ${page.next}`);
      return lines.join('\n');
    });
  },
};

export const waitingCommand: Command = {
  name: 'waiting',
  args: '<queue>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'tasks waiting in the queue, the next to run first',
  description: 'Lists waiting tasks from the head of the queue (index 0 runs next).',
  options: PAGE_OPTIONS,
  examples: [
    'nestjs-delayed waiting orders --limit 20',
    'nestjs-delayed waiting orders --offset 20 --json',
  ],
  async run(input, { session, output }) {
    const page = pageRequest(input.values);
    const queue = session.queue(input.positionals[0]!);
    const [tasks, total] = await Promise.all([
      session.inspector(queue.name).waiting(page.offset, page.limit),
      queue.command(() => queue.len(), 'counting waiting tasks'),
    ]);
    const items = tasks.map((task, i) => ({ index: page.offset + i, task }));
    output.result({ queue: queue.name, total, offset: page.offset, items }, () => {
      const footer = pageFooter(page, items.length, total, 'waiting tasks', queue.name);
      if (items.length === 0) return footer;
      const table = renderTable(
        [{ header: 'INDEX', align: 'right' }, { header: 'TASK' }, { header: 'ARGS' }],
        items.map(({ index, task }) => [String(index), taskNameCell(task), taskArgsCell(task)]),
      );
      return `${table}\n${footer}`;
    });
  },
};

export const scheduledCommand: Command = {
  name: 'scheduled',
  args: '<queue>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'tasks scheduled for later, the soonest first, with the ids cancel takes',
  description:
    "Lists tasks scheduled with a delay or a time, soonest first. IN is measured on Redis' " +
    'clock; "ago" means the task is overdue (no worker or sweeper is moving tasks in).',
  options: PAGE_OPTIONS,
  examples: [
    'nestjs-delayed scheduled orders',
    'nestjs-delayed scheduled orders --offset 50 --limit 50',
  ],
  async run(input, { session, output }) {
    const page = pageRequest(input.values);
    const queue = session.queue(input.positionals[0]!);
    const [entries, total, now] = await Promise.all([
      session.inspector(queue.name).scheduled(page.offset, page.limit),
      queue.command(() => queue.scheduledCount(), 'counting scheduled tasks'),
      session.now(),
    ]);
    output.result({ queue: queue.name, total, offset: page.offset, items: entries }, () => {
      const footer = pageFooter(page, entries.length, total, 'scheduled tasks', queue.name);
      if (entries.length === 0) return footer;
      const table = renderTable(
        [
          { header: 'ID' },
          { header: 'DUE AT' },
          { header: 'IN' },
          { header: 'TASK' },
          { header: 'ARGS' },
        ],
        entries.map((entry) => [
          entry.id,
          formatInstant(entry.dueAt),
          formatRelative(entry.dueAt, now),
          taskNameCell(entry.task),
          taskArgsCell(entry.task),
        ]),
      );
      return `${table}\n${footer}`;
    });
  },
};
