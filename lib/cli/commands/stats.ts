import { findQueues, type QueueCounts } from '../../core/index.js';
import type { Command } from '../command.js';
import { renderTable } from '../output/table.js';
import { formatDuration, formatRelative } from '../output/text.js';
import { redactUrl } from '../session.js';

export const statsCommand: Command = {
  name: 'stats',
  args: '[queue...]',
  minArgs: 0,
  maxArgs: Number.POSITIVE_INFINITY,
  summary: 'counts of each queue: waiting, running, scheduled, dead, schedules, paused, lateness',
  description:
    'Shows one row per queue, each read in one transaction. Without names, shows every queue ' +
    'found in Redis (by SCAN); a queue with nothing waiting, running, scheduled or paused has no ' +
    'key to be found by, so name it. LATENESS is how overdue the oldest scheduled task is: it ' +
    'grows when no worker or sweeper moves scheduled tasks in.',
  options: {},
  examples: ['nestjs-delayed stats', 'nestjs-delayed stats orders emails --json'],
  async run(input, { session, output }) {
    const names =
      input.positionals.length > 0
        ? [...new Set(input.positionals)]
        : await session.bounded(() => findQueues(session.redis), 'finding queues (SCAN)');
    const counts = await Promise.all(names.map((name) => session.inspector(name).counts()));
    output.result({ queues: counts }, () =>
      counts.length === 0
        ? `No queues found in Redis at ${redactUrl(session.url)}. A queue with nothing waiting, ` +
          'running, scheduled or paused has no keys; name it: nestjs-delayed stats <queue>'
        : statsTable(counts),
    );
  },
};

function statsTable(counts: readonly QueueCounts[]): string {
  const right = 'right' as const;
  return renderTable(
    [
      { header: 'QUEUE' },
      { header: 'WAITING', align: right },
      { header: 'RUNNING', align: right },
      { header: 'SCHEDULED', align: right },
      { header: 'DEAD', align: right },
      { header: 'SCHEDULES', align: right },
      { header: 'PAUSED' },
      { header: 'LATENESS' },
      { header: 'NEXT DUE' },
    ],
    counts.map((c) => [
      c.queue,
      String(c.waiting),
      String(c.running),
      String(c.scheduled),
      String(c.dead),
      String(c.schedules),
      c.paused ? 'yes' : 'no',
      c.lateness > 0 ? formatDuration(c.lateness) : '-',
      c.nextDueAt === null ? '-' : formatRelative(c.nextDueAt, c.at),
    ]),
  );
}
