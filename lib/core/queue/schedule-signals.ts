import { EventEmitter } from 'node:events';

/**
 * Tells the promoters of this process that a task was scheduled: `('scheduled', queue name,
 * ms until due)`. A promoter whose timer is set later than that re-arms at once, so a task
 * scheduled by this process is never late by a promoter's poll. Promoters in other
 * processes find it at their next poll (at most a second).
 */
export const scheduleSignals = new EventEmitter<{
  scheduled: [string, number];
  /** A periodic schedule of this queue was created or changed in this process. */
  'schedule-set': [string];
}>();
// One listener per promoter; a process may run many.
scheduleSignals.setMaxListeners(0);
