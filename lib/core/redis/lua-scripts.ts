import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { DelayedError } from '../errors.js';
import type { QueueKeys } from '../protocol/keys.js';

/** How a script's header names a queue key (`-- KEYS[2]  N_noti  …`), and which key that is. */
const KEY_NAMES: Readonly<Record<string, keyof QueueKeys>> = {
  N: 'tasks',
  N_noti: 'notifications',
  N_processing: 'processing',
  N_dead: 'dead',
  N_scheduled: 'scheduled',
  N_schedules: 'schedules',
  N_schedule_ticks: 'scheduleTicks',
  N_rate: 'rate',
};

/**
 * One Lua script, loaded once from its `.lua` file beside the loader and run by SHA. A server
 * that does not know the script yet (fresh start, SCRIPT FLUSH, failover) answers NOSCRIPT,
 * and the script is then sent whole, which also caches it for the next call.
 *
 * The script declares its keys once, in its header: the `KEYS[i]` lines name queue keys, and
 * `run` builds the KEYS list of a queue from them, so no caller lists keys by hand or in the
 * wrong order.
 */
export class LuaScript {
  readonly sha: string;
  /** The queue keys the script takes, in KEYS order. */
  readonly keys: readonly (keyof QueueKeys)[];
  private readonly keysOf = new WeakMap<QueueKeys, string[]>();

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
    this.keys = headerKeys(name, source);
  }

  /** Runs the script on a queue's keys; bulk replies come back as Buffers, integers as numbers. */
  async run(redis: Redis, queue: QueueKeys, args: readonly (string | Buffer)[]): Promise<unknown> {
    // A queue's keys never change: build its KEYS list once, not on every call.
    let keys = this.keysOf.get(queue);
    if (keys === undefined) {
      keys = this.keys.map((key) => queue[key]);
      this.keysOf.set(queue, keys);
    }
    try {
      return await redis.callBuffer('EVALSHA', this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return redis.callBuffer('EVAL', this.source, keys.length, ...keys, ...args);
    }
  }
}

function headerKeys(name: string, source: string): (keyof QueueKeys)[] {
  const keys: (keyof QueueKeys)[] = [];
  for (const [, index, key] of source.matchAll(/^-- KEYS\[(\d+)\]\s+(\S+)/gm)) {
    const known = KEY_NAMES[key!];
    if (Number(index) !== keys.length + 1 || known === undefined) {
      throw new DelayedError(
        `${name}.lua: its header must list KEYS[1], KEYS[2], … in order, each a queue key (${Object.keys(KEY_NAMES).join(', ')}); KEYS[${index}] is ${key}`,
      );
    }
    keys.push(known);
  }
  if (keys.length === 0) throw new DelayedError(`${name}.lua: its header lists no KEYS`);
  return keys;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

function load(name: string): LuaScript {
  return new LuaScript(
    name,
    readFileSync(new URL(`../scripts/${name}.lua`, import.meta.url), 'utf8'),
  );
}

export const scripts = {
  enqueue: load('enqueue'),
  dequeue: load('dequeue'),
  dequeueLimited: load('dequeue_limited'),
  requeueLost: load('requeue_lost'),
  requeueDead: load('requeue_dead'),
  schedule: load('schedule'),
  cancel: load('cancel'),
  promote: load('promote'),
  retryLater: load('retry_later'),
  scheduleSet: load('schedule_set'),
  scheduleFire: load('schedule_fire'),
  scheduleDue: load('schedule_due'),
  scheduleRemove: load('schedule_remove'),
} as const;
