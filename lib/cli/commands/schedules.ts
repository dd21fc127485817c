import type { ScheduleInfo } from '../../core/index.js';
import type { Command } from '../command.js';
import { renderTable } from '../output/table.js';
import { ARGS_WIDTH } from '../output/task-cells.js';
import {
  formatArguments,
  formatDuration,
  formatInstant,
  formatRelative,
  truncate,
} from '../output/text.js';

export const schedulesCommand: Command = {
  name: 'schedules',
  args: '<queue>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'periodic and cron schedules of the queue, with their next tick',
  description:
    "Lists the queue's periodic (every) and cron schedules by name. DECLARED is yes for those " +
    'an app declares in code (@Every, @Cron) and no for those added at run time. NEXT TICK is ' +
    "when the next task is enqueued; IN is measured on Redis' clock.",
  options: {},
  examples: ['nestjs-delayed schedules orders', 'nestjs-delayed schedules orders --json'],
  async run(input, { session, output }) {
    const queue = session.queue(input.positionals[0]!);
    const [schedules, now] = await Promise.all([queue.schedules.list(), session.now()]);
    output.result({ queue: queue.name, items: schedules }, () => {
      if (schedules.length === 0) return `No schedules on ${queue.name}.`;
      return renderTable(
        [
          { header: 'NAME' },
          { header: 'TIMING' },
          { header: 'NEXT TICK' },
          { header: 'IN' },
          { header: 'TASK' },
          { header: 'ARGS' },
          { header: 'DECLARED' },
        ],
        schedules.map((schedule) => [
          schedule.name,
          timingCell(schedule),
          schedule.nextTick === null ? '-' : formatInstant(schedule.nextTick),
          schedule.nextTick === null ? 'never' : formatRelative(schedule.nextTick, now),
          schedule.task.name,
          truncate(formatArguments(schedule.task.args, null), ARGS_WIDTH),
          schedule.declared ? 'yes' : 'no',
        ]),
      );
    });
  },
};

/** "every 1m", or "cron 0 * * * * (Europe/Paris)", and ", never skip" when it catches up. */
function timingCell(schedule: ScheduleInfo): string {
  if (schedule.problem !== undefined) return truncate(`(unreadable: ${schedule.problem})`, 60);
  const { timing } = schedule;
  const text =
    'every' in timing
      ? `every ${formatDuration(timing.every)}`
      : `cron ${timing.cron} (${timing.timeZone ?? 'UTC'})`;
  return schedule.neverSkip ? `${text}, never skip` : text;
}
