import type { Command } from '../command.js';
import { cancelCommand } from './cancel.js';
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
];
