import type { Queue } from '../../core/index.js';
import type { Command } from '../command.js';
import { formatInstant } from '../output/text.js';
import type { Session } from '../session.js';

export const pauseCommand: Command = {
  name: 'pause',
  args: '<queue>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'stops every worker of ours from taking tasks from the queue',
  description:
    'Pauses the queue across all nestjs-delayed workers, until resume: once this returns, none ' +
    'takes a new task from it (tasks already running finish). Enqueues, scheduled tasks and ' +
    'retries go on and wait in the queue. Python and Go workers do not read pauses. Pausing a ' +
    'paused queue changes nothing (it keeps its first pause time).',
  options: {},
  examples: ['nestjs-delayed pause emails'],
  async run(input, { session, output }) {
    const queue = session.queue(input.positionals[0]!);
    const changed = await queue.pause();
    const pausedAt = await pauseTime(session, queue);
    output.result({ queue: queue.name, paused: true, changed, pausedAt }, () => {
      const since = pausedAt === null ? '' : ` since ${formatInstant(pausedAt)}`;
      return changed
        ? `Paused ${queue.name}: no worker of ours takes a task from it until 'nestjs-delayed resume ${queue.name}'.`
        : `${queue.name} was paused already${since}.`;
    });
  },
};

export const resumeCommand: Command = {
  name: 'resume',
  args: '<queue>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'lets workers take tasks from a paused queue again',
  description:
    'Ends a pause: workers take tasks from the queue again at once (or within their ' +
    'dequeueTimeout if they miss the wake-up message). Resuming a queue that is not paused ' +
    'changes nothing.',
  options: {},
  examples: ['nestjs-delayed resume emails'],
  async run(input, { session, output }) {
    const queue = session.queue(input.positionals[0]!);
    const changed = await queue.resume();
    output.result({ queue: queue.name, paused: false, changed }, () =>
      changed ? `Resumed ${queue.name}.` : `${queue.name} was not paused.`,
    );
  },
};

/** When the queue was paused (ms on Redis' clock), or null if it is not paused now. */
async function pauseTime(session: Session, queue: Queue): Promise<number | null> {
  const value = await session.bounded(
    () => session.redis.get(queue.keys.paused),
    'reading the pause',
  );
  return value === null || !/^\d+$/.test(value) ? null : Number(value);
}
