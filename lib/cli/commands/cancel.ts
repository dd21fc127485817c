import type { Command } from '../command.js';
import { CommandFailedError } from '../cli-errors.js';

export const cancelCommand: Command = {
  name: 'cancel',
  args: '<queue> <scheduled-id>',
  minArgs: 2,
  maxArgs: 2,
  summary: 'cancels a scheduled task by the id `scheduled` shows',
  description:
    'Removes a task from the schedule before it is due. Fails (exit code 1) when the task is ' +
    'not scheduled any more: it was moved into the queue already, or cancelled before.',
  options: {},
  examples: ['nestjs-delayed cancel orders 0000019a5f3c1e2803a1b2c3d4e5f607'],
  async run(input, { session, output }) {
    const [name, id] = input.positionals as [string, string];
    if (!(await session.queue(name).cancel(id))) {
      throw new CommandFailedError(
        `${id} is not scheduled on ${name}: it was moved into the queue already, or cancelled before`,
      );
    }
    output.result({ queue: name, id, cancelled: true }, () => `Cancelled ${id} on ${name}.`);
  },
};
