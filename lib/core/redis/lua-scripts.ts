import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RedisClient } from './client.js';
import { DelayedError } from '../errors.js';
import type { DataQueueKeys } from '../data/data-keys.js';
import type { QueueKeys } from '../protocol/keys.js';

/** The keys a script runs on: a task queue's, or a data queue's. */
type ScriptKeys = QueueKeys | DataQueueKeys;
type KeyName = keyof QueueKeys | keyof DataQueueKeys;

/**
 * How a script's header names a queue key (`-- KEYS[2]  N_noti  …`), and which key that is;
 * a data queue's keys (`N_dq…`) are named the same way.
 */
const KEY_NAMES: Readonly<Record<string, KeyName>> = {
  N: 'tasks',
  N_noti: 'notifications',
  N_processing: 'processing',
  N_dead: 'dead',
  N_scheduled: 'scheduled',
  N_schedules: 'schedules',
  N_schedule_ticks: 'scheduleTicks',
  N_rate: 'rate',
  N_paused: 'paused',
  N_dq: 'available',
  N_dq_items: 'items',
  N_dq_leases: 'leases',
  N_dq_delayed: 'delayed',
  N_dq_dead: 'dead',
};

/**
 * One Lua script, loaded once from its `.lua` file beside the loader and run by SHA. A server
 * that does not know the script yet (fresh start, SCRIPT FLUSH, failover) answers NOSCRIPT,
 * and the script is then sent whole, which also caches it for the next call.
 *
 * The script declares its keys once, in its header: the `KEYS[i]` lines name queue keys, and
 * `run` builds the KEYS list of a queue from them, so no caller lists keys by hand or in the
 * wrong order. Keys of one task (`N_task_<id>`, `N_unique_<key>`) come after the queue's, in
 * the header as in the `taskKeys` the caller gives `run`; a header may mark its last ones
 * `(optional)`.
 */
export class LuaScript {
  readonly sha: string;
  /** The queue keys the script takes, in KEYS order. */
  readonly keys: readonly KeyName[];
  /** How many per-task keys the script takes after the queue's: at least `min`, at most `max`. */
  readonly taskKeys: { readonly min: number; readonly max: number };
  private readonly keysOf = new WeakMap<ScriptKeys, string[]>();

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
    [this.keys, this.taskKeys] = headerKeys(name, source);
  }

  /**
   * Runs the script on a queue's keys (then `taskKeys`, the keys of one task, as its header
   * lists them); bulk replies come back as Buffers, integers as numbers.
   */
  async run(
    redis: RedisClient,
    queue: ScriptKeys,
    args: readonly (string | Buffer)[],
    taskKeys: readonly string[] = [],
  ): Promise<unknown> {
    // A queue's keys never change: build its KEYS list once, not on every call.
    let keys = this.keysOf.get(queue);
    if (keys === undefined) {
      keys = this.keys.map((key) => {
        const name = (queue as unknown as Record<string, unknown>)[key];
        if (typeof name !== 'string') {
          throw new DelayedError(`${this.name}.lua takes a key "${key}" these keys do not have`);
        }
        return name;
      });
      this.keysOf.set(queue, keys);
    }
    if (taskKeys.length < this.taskKeys.min || taskKeys.length > this.taskKeys.max) {
      throw new DelayedError(
        `${this.name}.lua takes ${this.taskKeys.min} to ${this.taskKeys.max} task keys, got ${taskKeys.length}`,
      );
    }
    if (taskKeys.length > 0) keys = [...keys, ...taskKeys];
    try {
      return await redis.callBuffer('EVALSHA', this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return redis.callBuffer('EVAL', this.source, keys.length, ...keys, ...args);
    }
  }
}

/** How a header names the key of one task: `N_task_<id>`, `N_unique_<key>`. */
const TASK_KEY = /^N_\w+_<\w+>$/;

function headerKeys(name: string, source: string): [KeyName[], { min: number; max: number }] {
  const keys: KeyName[] = [];
  const taskKeys = { min: 0, max: 0 };
  for (const [line, index, key] of source.matchAll(/^-- KEYS\[(\d+)\]\s+(\S+).*$/gm)) {
    const known = KEY_NAMES[key!];
    const position = keys.length + taskKeys.max + 1;
    const inOrder =
      Number(index) === position &&
      (known !== undefined ? taskKeys.max === 0 : TASK_KEY.test(key!)) &&
      (known !== undefined || taskKeys.min === taskKeys.max || line.includes('(optional)'));
    if (!inOrder) {
      throw new DelayedError(
        `${name}.lua: its header must list KEYS[1], KEYS[2], … in order: queue keys (${Object.keys(KEY_NAMES).join(', ')}), then the keys of one task (N_task_<id>, …), optional ones last; KEYS[${index}] is ${key}`,
      );
    }
    if (known !== undefined) keys.push(known);
    else {
      taskKeys.max += 1;
      if (!line.includes('(optional)')) taskKeys.min += 1;
    }
  }
  if (keys.length === 0 && taskKeys.max === 0) {
    throw new DelayedError(`${name}.lua: its header lists no KEYS`);
  }
  return [keys, taskKeys];
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
  pause: load('pause'),
  resume: load('resume'),
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
  trackEnqueue: load('track_enqueue'),
  trackStart: load('track_start'),
  trackFinish: load('track_finish'),
  trackRequeued: load('track_requeued'),
  trackCancel: load('track_cancel'),
  trackStatus: load('track_status'),
  trackProgress: load('track_progress'),
  drainState: load('drain_state'),
  dataPut: load('data_put'),
  dataGet: load('data_get'),
  dataRefresh: load('data_refresh'),
  dataDone: load('data_done'),
  dataCounts: load('data_counts'),
  dataRequeueDead: load('data_requeue_dead'),
} as const;
