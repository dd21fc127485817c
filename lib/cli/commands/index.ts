import type { Command } from '../command.js';
import { cancelCommand } from './cancel.js';
import { DATA_DEAD_LETTER_COMMANDS } from './data-dead-letters.js';
import { dataDeleteCommand, dataPeekCommand, dataStatsCommand } from './data-queues.js';
import { DEAD_LETTER_COMMANDS } from './dead-letters.js';
import { pauseCommand, resumeCommand } from './pause.js';
import { schedulesCommand } from './schedules.js';
import { statsCommand } from './stats.js';
import { runningCommand, scheduledCommand, waitingCommand } from './task-lists.js';

/** Every command, in the order the help lists them. */
export const COMMANDS: readonly Command[] = [
  statsCommand,
  runningCommand,
  waitingCommand,
  scheduledCommand,
  cancelCommand,
  ...DEAD_LETTER_COMMANDS,
  schedulesCommand,
  pauseCommand,
  resumeCommand,
  // Data queues (DataQueue): one group, after the task queue commands.
  dataStatsCommand,
  dataPeekCommand,
  ...DATA_DEAD_LETTER_COMMANDS,
  dataDeleteCommand,
];
