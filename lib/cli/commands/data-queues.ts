import {
  type DataCounts,
  DataDecodeError,
  type DataQueue,
  MAX_ITEMS_PER_GET,
} from '../../core/index.js';
import type { Command } from '../command.js';
import { wholeNumber } from '../arguments.js';
import { UsageError } from '../cli-errors.js';
import { DEFAULT_PAGE_SIZE } from '../paging.js';
import { itemCell } from '../output/data-cells.js';
import { renderTable } from '../output/table.js';
import { plural } from './letter-selection.js';

/** The commands on a data queue's items (`DataQueue`); its dead letters are in data-dead-letters.ts. */

export const dataStatsCommand: Command = {
  name: 'data stats',
  args: '<queue...>',
  minArgs: 1,
  maxArgs: Number.POSITIVE_INFINITY,
  summary: 'counts of each data queue: available, invisible (leased), delayed, dead',
  description:
    "Shows one row per data queue, each counted in one script on Redis' clock. AVAILABLE is " +
    'what a get could take now (counting delayed items that are due and leases that ended, ' +
    'which the next get settles); INVISIBLE is items held under a lease that has not ended; ' +
    'DELAYED is items put with a delay that is not over; DEAD is the dead letters kept. ' +
    'Changes nothing.',
  options: {},
  examples: ['nestjs-delayed data stats clicks', 'nestjs-delayed data stats clicks views --json'],
  async run(input, { session, output }) {
    const names = [...new Set(input.positionals)];
    const rows = await Promise.all(
      names.map(async (name) => ({ queue: name, ...(await session.dataQueue(name).counts()) })),
    );
    output.result({ queues: rows }, () =>
      renderTable(
        [
          { header: 'QUEUE' },
          { header: 'AVAILABLE', align: 'right' },
          { header: 'INVISIBLE', align: 'right' },
          { header: 'DELAYED', align: 'right' },
          { header: 'DEAD', align: 'right' },
        ],
        rows.map((row) => [
          row.queue,
          String(row.available),
          String(row.invisible),
          String(row.delayed),
          String(row.dead),
        ]),
      ),
    );
  },
};

export const dataPeekCommand: Command = {
  name: 'data peek',
  args: '<queue>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'the items at the head of a data queue (the next a get takes), without taking them',
  description:
    'Shows the items at the head of the data queue, the next a get takes first, with their ' +
    'ids. Takes nothing: like any get, it first settles what is due (delayed items that are ' +
    'due join the queue; items whose lease ended come back, or become dead letters), which the ' +
    "next consumer's get would do anyway. Items longer than the ITEM column are cut with an " +
    'ellipsis; --json gives them whole (bytes as base64, integers beyond 2^53 as decimal text).',
  options: {
    limit: {
      type: 'string',
      value: '<n>',
      description: `items to show, 1 to ${MAX_ITEMS_PER_GET} (default ${DEFAULT_PAGE_SIZE})`,
    },
  },
  examples: ['nestjs-delayed data peek clicks', 'nestjs-delayed data peek clicks --limit 1 --json'],
  async run(input, { session, output }) {
    const limit =
      wholeNumber(input.values, 'limit', { min: 1, max: MAX_ITEMS_PER_GET }) ?? DEFAULT_PAGE_SIZE;
    const queue = session.dataQueue(input.positionals[0]!);
    const { items, unreadable } = await peek(queue, limit);
    // After the peek, which settled what was due: the count matches what it saw.
    const { available } = await queue.counts();
    output.result({ queue: queue.name, available, items, unreadable }, () => {
      const lines: string[] = [];
      if (items.length > 0) {
        lines.push(
          renderTable(
            [{ header: 'ID' }, { header: 'ITEM' }],
            items.map(({ id, item }) => [id, itemCell(item)]),
          ),
        );
      }
      if (unreadable.length > 0) {
        lines.push(
          `${plural(unreadable.length, 'item')} at the head ${unreadable.length === 1 ? 'is' : 'are'} ` +
            `not a data queue record (written by something else): ${unreadable.map((u) => u.id).join(', ')}`,
        );
      }
      const shown = items.length + unreadable.length;
      if (shown === 0) {
        lines.push(
          `No items available in ${queue.name} (data stats counts the delayed and invisible ones).`,
        );
      } else if (available > shown) {
        const more =
          limit < MAX_ITEMS_PER_GET
            ? ` More: --limit ${Math.min(available, MAX_ITEMS_PER_GET)}`
            : ` (a peek reads at most ${MAX_ITEMS_PER_GET})`;
        lines.push(`The first ${shown} of ${available} available items.${more}`);
      } else {
        lines.push(`${plural(shown, 'item')} available.`);
      }
      return lines.join('\n');
    });
  },
};

export const dataDeleteCommand: Command = {
  name: 'data delete',
  args: '<queue>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'deletes every item of a data queue, keeping its dead letters (needs --yes)',
  description:
    'Deletes every item of the data queue at once: available, held under a lease, and ' +
    'delayed (DataQueue.deleteAll()). Its dead letters are kept (data dead purge deletes ' +
    'them). Refuses without --yes (exit code 2). The counts it prints are read just before.',
  options: { yes: { type: 'boolean', description: 'confirm: delete every item' } },
  examples: ['nestjs-delayed data delete clicks --yes'],
  async run(input, { session, output }) {
    const name = input.positionals[0]!;
    if (input.values['yes'] !== true) {
      throw new UsageError(
        `data delete deletes every item of data queue ${name}; add --yes to confirm`,
        'data delete',
      );
    }
    const queue = session.dataQueue(name);
    const before: DataCounts = await queue.counts();
    await queue.deleteAll();
    output.result({ queue: name, deleted: true, before }, () => {
      const total = before.available + before.invisible + before.delayed;
      const kept = before.dead > 0 ? ` Kept: ${plural(before.dead, 'dead letter')}.` : '';
      return (
        `Deleted every item of ${name} (${total} just before: ${before.available} available, ` +
        `${before.invisible} invisible, ${before.delayed} delayed).${kept}`
      );
    });
  },
};

interface Peeked {
  readonly items: { readonly id: string; readonly item: unknown }[];
  /** Records at the head that are not ours: their ids and stored bytes. */
  readonly unreadable: { readonly id: string; readonly record: Buffer }[];
}

/** The head of the queue; records that cannot be read are shown for what they are. */
async function peek(queue: DataQueue, limit: number): Promise<Peeked> {
  let readable: Map<string, unknown>;
  let unreadable: Peeked['unreadable'] = [];
  try {
    readable = await queue.peek(limit);
  } catch (error) {
    if (!(error instanceof DataDecodeError)) throw error;
    readable = error.batch;
    unreadable = [...error.records].map(([id, record]) => ({ id, record }));
  }
  return { items: [...readable].map(([id, item]) => ({ id, item })), unreadable };
}
