import { randomBytes } from 'node:crypto';
import { InvalidOptionsError } from '../errors.js';

/** When a scheduled task is due: after a delay, or at an instant. */
export type ScheduleTime =
  /** Milliseconds from now, measured on Redis' clock (the caller's clock plays no part). */
  | { readonly delay: number }
  /** An instant (a Date, or ms since the epoch), as the caller's clock tells it. */
  | { readonly at: Date | number };

/** A task waiting for its time: what `cancel()` takes, and when it is due. */
export interface ScheduledTask {
  /** The task's id in the queue's schedule (not part of the task's bytes). */
  readonly id: string;
  /** The queue it will be enqueued into. */
  readonly queue: string;
  /** When it is due, in ms since the epoch (Redis' clock for a delay, the caller's for an `at`). */
  readonly dueAt: number;
}

/** The script arguments of a schedule time: its mode and its number, checked. */
export function scheduleArgs(when: ScheduleTime): ['in' | 'at', string] {
  if (when !== null && typeof when === 'object' && 'delay' in when) {
    const { delay } = when;
    if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0 || delay > MAX_TIME) {
      throw new InvalidOptionsError(
        `delay must be a whole number of milliseconds from 0 to ${MAX_TIME}, got ${String(delay)}`,
      );
    }
    return ['in', String(delay)];
  }
  if (when !== null && typeof when === 'object' && 'at' in when) {
    const at = when.at instanceof Date ? when.at.getTime() : when.at;
    if (typeof at !== 'number' || !Number.isFinite(at) || at < 0 || at > MAX_TIME) {
      throw new InvalidOptionsError(
        `at must be a Date or ms since the epoch, from 0 to ${MAX_TIME}, got ${String(when.at)}`,
      );
    }
    return ['at', String(Math.round(at))];
  }
  throw new InvalidOptionsError(
    'A schedule needs { delay: ms } or { at: Date | ms since the epoch }',
  );
}

/** The latest time a schedule takes: the last instant a JavaScript Date can hold (ms). */
const MAX_TIME = 8.64e15;

let sequence = 0;
/** Random bytes drawn 4 KiB at a time: one draw per task would cost more than the task. */
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** Bytes of a scheduled task's id after its due time. */
export const SUFFIX_LENGTH = 8;

/**
 * Writes a new id suffix for a scheduled task at `target[offset]`: 8 bytes, a per-process
 * sequence (3) then random (5). A task's id is its due time (8 bytes) and this suffix: tasks
 * due at the same instant leave the schedule in suffix order, so the tasks of one
 * `scheduleMany` keep their order (up to 16 million), as an enqueue keeps it.
 */
export function writeScheduleSuffix(target: Buffer, offset: number): void {
  sequence = (sequence + 1) & 0xffffff;
  target.writeUIntBE(sequence, offset, 3);
  if (poolOffset + 5 > pool.length) {
    pool = randomBytes(4_096);
    poolOffset = 0;
  }
  pool.copy(target, offset + 3, poolOffset, poolOffset + 5);
  poolOffset += 5;
}

/**
 * Makes room for `count` suffixes in a row: if the sequence would wrap within them, it
 * starts again from 0 first, so the tasks of one call keep their order.
 */
export function reserveScheduleSuffixes(count: number): void {
  if (sequence + count > 0xffffff) sequence = 0;
}

/** A task's suffix and bytes in one buffer, as the schedule script takes them. */
export function suffixedTask(bytes: Buffer): Buffer {
  const member = Buffer.allocUnsafe(SUFFIX_LENGTH + bytes.length);
  writeScheduleSuffix(member, 0);
  bytes.copy(member, SUFFIX_LENGTH);
  return member;
}

/** A scheduled task's id, 32 hex characters: its due time (16) and its suffix (16). */
export function scheduledTaskId(dueAt: number, suffix: Buffer): string {
  return dueAt.toString(16).padStart(16, '0') + suffix.toString('hex', 0, SUFFIX_LENGTH);
}

/** The due time and the member prefix of a scheduled task's id. */
export function parseScheduledTaskId(id: string): { dueAt: number; prefix: Buffer } {
  if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id)) {
    throw new InvalidOptionsError(
      `Not a scheduled task id (32 hex characters): ${JSON.stringify(id)}`,
    );
  }
  return { dueAt: parseInt(id.slice(0, 16), 16), prefix: Buffer.from(id, 'hex') };
}
