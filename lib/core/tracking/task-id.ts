import { randomBytes } from 'node:crypto';
import { InvalidOptionsError } from '../errors.js';

/** Random bytes drawn 4 KiB at a time: one draw per task would cost more than the task. */
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** A new tracked task id: 16 random bytes as 32 hex characters. */
export function newTaskId(): string {
  if (poolOffset + 16 > pool.length) {
    pool = randomBytes(4_096);
    poolOffset = 0;
  }
  poolOffset += 16;
  return pool.toString('hex', poolOffset - 16, poolOffset);
}

const TASK_ID = /^[0-9a-f]{32}$/;

export function isTaskId(value: unknown): value is string {
  return typeof value === 'string' && TASK_ID.test(value);
}

export function checkTaskId(id: unknown): string {
  if (!isTaskId(id)) {
    throw new InvalidOptionsError(
      `Not a task id (32 lowercase hex characters): ${JSON.stringify(id)}`,
    );
  }
  return id;
}
