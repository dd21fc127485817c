import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import {
  currentTask,
  HandlerRegistry,
  type HandlerOptions,
  InvalidOptionsError,
  NodeTask,
  Queue,
  ResultTimeoutError,
  TaskCancelledError,
  TaskFailedError,
  TaskNotFoundError,
  type TaskHandler,
  UnrecoverableError,
  Worker,
} from '../../lib/core/index.js';
import { spawnProcess } from '../helpers/processes.js';
import {
  eventually,
  leftoverKeys,
  quietLogger,
  uniqueName,
  useRedisServer,
} from '../helpers/redis-server.js';

const db = useRedisServer();

const WAITER = fileURLToPath(new URL('../fixtures/result-waiter.js', import.meta.url));

/** Runs a worker on `queue` with handlers `name -> [handler, options]` around `body`. */
async function withWorker(
  queue: Queue,
  handlers: Record<string, TaskHandler | [TaskHandler, HandlerOptions]>,
  body: (worker: Worker) => Promise<void>,
  options: { concurrency?: number; deadLetter?: boolean } = {},
): Promise<void> {
  const registry = new HandlerRegistry();
  for (const [name, entry] of Object.entries(handlers)) {
    const [handler, handlerOptions] = Array.isArray(entry) ? entry : [entry, {}];
    registry.register(name, handler, name, undefined, handlerOptions);
  }
  const worker = new Worker({
    queues: [queue],
    handlers: registry,
    dequeueTimeout: 200,
    logger: quietLogger,
    concurrency: options.concurrency ?? 4,
  });
  await worker.start();
  try {
    await body(worker);
  } finally {
    await worker.close();
  }
}

/** Every key of a queue that exists, extension keys included. */
async function allKeys(redis: Redis, queue: string): Promise<string[]> {
  return (await redis.keys(`${queue}*`)).sort();
}

describe('tracked tasks', () => {
  it('give a handle whose result is the handler return value, readable from a second handle', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await withWorker(queue, { 'Math:add': (a: number, b: number) => a + b }, async () => {
      const handle = await queue.call(new NodeTask('Math:add', [2, 3]));
      assert.match(handle.id, /^[0-9a-f]{32}$/);
      assert.equal(handle.created, true);
      assert.equal(await handle.result(), 5);
      assert.equal(await queue.task(handle.id).result(), 5);
      const status = await handle.status();
      assert.deepEqual(status, { state: 'done', attempts: 1 });
      // Only the record is left, and it expires with the result's ttl.
      const record = `${queue.name}_task_${handle.id}`;
      assert.deepEqual(await allKeys(db.redis, queue.name), [record]);
      const ttl = await db.redis.pttl(record);
      assert.ok(ttl > 3_500_000 && ttl <= 3_600_000, `ttl ${ttl}`);
    });
  });

  it('resolve structured results (maps, bytes, big integers) and undefined as null', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await withWorker(
      queue,
      {
        'Data:shape': () => ({ list: [1, 'two'], bytes: Buffer.from([1, 2]), big: 2n ** 60n }),
        'Data:nothing': () => undefined,
      },
      async () => {
        const shape = (await (await queue.call(new NodeTask('Data:shape'))).result()) as {
          list: unknown[];
          bytes: Uint8Array;
          big: bigint;
        };
        assert.deepEqual(shape.list, [1, 'two']);
        assert.deepEqual([...shape.bytes], [1, 2]);
        assert.equal(shape.big, 2n ** 60n);
        assert.equal(await (await queue.call(new NodeTask('Data:nothing'))).result(), null);
      },
    );
  });

  it('deliver a small result in the end message and read a large one from the record', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const channel = `${queue.name}_done`;
    const listener = db.redis.duplicate();
    const messages: Buffer[] = [];
    listener.on('messageBuffer', (_: Buffer, message: Buffer) => messages.push(message));
    await listener.subscribe(channel);
    try {
      await withWorker(queue, { 'Big:run': (size: number) => 'x'.repeat(size) }, async () => {
        const small = await queue.call(new NodeTask('Big:run', [10]));
        const large = await queue.call(new NodeTask('Big:run', [20_000]));
        assert.equal(await small.result(), 'x'.repeat(10));
        assert.equal(await large.result(), 'x'.repeat(20_000));
        await eventually(() => messages.length === 2);
        const byId = new Map(messages.map((m) => [m.toString('latin1', 0, 32), m]));
        assert.match(byId.get(small.id)!.toString('latin1'), new RegExp(`^${small.id} done r `));
        assert.equal(byId.get(large.id)!.toString(), large.id);
      });
    } finally {
      await listener.quit();
    }
  });

  it('keep the result for the ttl the call gives', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await withWorker(queue, { 'T:run': () => 1 }, async () => {
      const handle = await queue.call(new NodeTask('T:run'), { result: { ttl: 300 } });
      assert.equal(await handle.result(), 1);
      await eventually(async () => (await allKeys(db.redis, queue.name)).length === 0, 3_000);
      assert.equal((await handle.status()).state, 'unknown');
      await assert.rejects(handle.result(), TaskNotFoundError);
    });
  });

  it('reject with the handler error name and message, the stack only when asked', async () => {
    const queue = new Queue(db.redis, uniqueName(), { deadLetter: false });
    class PaymentDeclined extends Error {
      override name = 'PaymentDeclined';
    }
    await withWorker(
      queue,
      {
        'Pay:charge': () => {
          throw new PaymentDeclined('card expired');
        },
      },
      async () => {
        const plain = await queue.call(new NodeTask('Pay:charge'));
        const error = await plain.result().then(
          () => assert.fail('resolved'),
          (reason: unknown) => reason,
        );
        assert.ok(error instanceof TaskFailedError);
        assert.equal(error.message, 'card expired');
        assert.equal(error.errorName, 'PaymentDeclined');
        assert.equal(error.state, 'failed');
        assert.equal(error.remoteStack, undefined);
        assert.equal((await plain.status()).state, 'failed');
        const withStack = await queue.call(new NodeTask('Pay:charge'), { result: { stack: true } });
        const traced = (await withStack
          .result()
          .catch((reason: unknown) => reason)) as TaskFailedError;
        assert.match(traced.remoteStack ?? '', /PaymentDeclined: card expired\n\s+at /);
      },
    );
  });

  it('end as dead (with the dead letter written) after the retries, waiting while they run', async () => {
    const queue = new Queue(db.redis, uniqueName());
    let attempts = 0;
    await withWorker(
      queue,
      {
        'Flaky:run': [
          () => {
            attempts++;
            throw new Error(`attempt ${attempts}`);
          },
          { retry: 2, backoff: 50 },
        ],
      },
      async () => {
        const handle = await queue.call(new NodeTask('Flaky:run', [], {}, 2));
        const error = (await handle.result().catch((reason: unknown) => reason)) as TaskFailedError;
        assert.ok(error instanceof TaskFailedError);
        assert.equal(error.state, 'dead');
        assert.equal(error.message, 'attempt 3');
        assert.equal(attempts, 3);
        assert.deepEqual(await handle.status(), { state: 'dead', attempts: 3 });
        assert.equal(await queue.deadLetters.count(), 1);
        const [letter] = await queue.deadLetters.list();
        assert.equal(letter!.error, 'attempt 3');
      },
    );
  });

  it('a task no handler of the worker knows ends as dead, and its waiters hear why', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await withWorker(queue, { 'Known:run': () => 1 }, async () => {
      const handle = await queue.call(new NodeTask('Unknown:run'));
      await assert.rejects(handle.result(), {
        name: 'TaskFailedError',
        errorName: 'UnknownHandlerError',
        state: 'dead',
        message: 'No handler named "Unknown:run" is registered on this worker',
      });
      assert.equal(await queue.deadLetters.count(), 1);
    });
  });

  it('an unrecoverable error ends the task at once', async () => {
    const queue = new Queue(db.redis, uniqueName(), { deadLetter: false });
    await withWorker(
      queue,
      {
        'Bad:run': [
          () => {
            throw new UnrecoverableError('no such user');
          },
          { retry: 5 },
        ],
      },
      async () => {
        const handle = await queue.call(new NodeTask('Bad:run', [], {}, 5));
        await assert.rejects(handle.result(), {
          name: 'TaskFailedError',
          errorName: 'UnrecoverableError',
        });
        assert.equal((await handle.status()).attempts, 1);
      },
    );
  });

  it('report scheduled, waiting, running and progress, then done', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handle = await queue.call(new NodeTask('Steps:run', [3]), { delay: 60_000 });
    assert.ok(handle.dueAt! > Date.now() + 55_000);
    assert.deepEqual(await handle.status(), { state: 'scheduled', attempts: 0 });
    const waiting = await queue.call(new NodeTask('Steps:run', [3]));
    assert.deepEqual(await waiting.status(), { state: 'waiting', attempts: 0 });
    assert.equal(await handle.cancel(), true);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await withWorker(
      queue,
      {
        'Steps:run': async (steps: number) => {
          for (let step = 1; step <= steps; step++) {
            await currentTask()!.progress({ step, of: steps });
          }
          await gate;
          return currentTask()!.id;
        },
      },
      async () => {
        const running = await eventually(async () => {
          const status = await waiting.status();
          return status.state === 'running' && status.progress !== undefined ? status : undefined;
        });
        assert.deepEqual(running, { state: 'running', progress: { step: 3, of: 3 }, attempts: 1 });
        release();
        assert.equal(await waiting.result(), waiting.id);
        assert.deepEqual(await waiting.status(), {
          state: 'done',
          progress: { step: 3, of: 3 },
          attempts: 1,
        });
      },
    );
  });

  it('report progress of untracked tasks only as events, nothing in Redis', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const seen: unknown[] = [];
    const events: unknown[] = [];
    await withWorker(
      queue,
      {
        'Plain:run': async () => {
          await currentTask()!.progress(50);
          seen.push(currentTask()!.id);
        },
      },
      async (worker) => {
        worker.on('progress', ({ name, id, progress }) => events.push({ name, id, progress }));
        await queue.enqueue(new NodeTask('Plain:run'));
        await eventually(() => seen.length === 1);
      },
    );
    assert.deepEqual(seen, [undefined]);
    assert.deepEqual(events, [{ name: 'Plain:run', id: undefined, progress: 50 }]);
    assert.deepEqual(await allKeys(db.redis, queue.name), []);
  });
});

describe('cancel', () => {
  it('removes a scheduled task, rejects its waiters, and later cancels are false', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handle = await queue.call(new NodeTask('Job:run'), { delay: 60_000 });
    const waiting = handle.result();
    assert.equal(await handle.cancel(), true);
    await assert.rejects(waiting, TaskCancelledError);
    assert.equal(await queue.scheduledCount(), 0);
    assert.deepEqual(await handle.status(), { state: 'cancelled', attempts: 0 });
    assert.equal(await handle.cancel(), false);
    assert.equal(await queue.task('0'.repeat(32)).cancel(), false);
  });

  it('skips a waiting task: the worker releases it without running it', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const ran: number[] = [];
    const first = await queue.call(new NodeTask('Job:run', [1]));
    const second = await queue.call(new NodeTask('Job:run', [2]));
    assert.equal(await first.cancel(), true);
    await withWorker(queue, { 'Job:run': (n: number) => ran.push(n) }, async () => {
      assert.equal(await second.result(), 1);
      await eventually(async () => (await db.redis.hlen(`${queue.name}_processing`)) === 0);
    });
    assert.deepEqual(ran, [2]);
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
  });

  it('of a waiting task outlives a short result ttl, so the task is still skipped much later', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handle = await queue.call(new NodeTask('Job:run'), { result: { ttl: 200 } });
    assert.equal(await handle.cancel(), true);
    // Its bytes are still in the queue: the tombstone lives as long as they may wait.
    assert.ok((await db.redis.pttl(`${queue.name}_task_${handle.id}`)) > 86_400_000);
    const scheduled = await queue.call(new NodeTask('Job:run'), {
      result: { ttl: 200 },
      delay: 60_000,
    });
    assert.equal(await scheduled.cancel(), true);
    // Out of the schedule: nothing left to skip, the record goes with its ttl.
    assert.ok((await db.redis.pttl(`${queue.name}_task_${scheduled.id}`)) <= 200);
  });

  it('is false once the task runs', async () => {
    const queue = new Queue(db.redis, uniqueName());
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await withWorker(queue, { 'Job:run': () => gate }, async () => {
      const handle = await queue.call(new NodeTask('Job:run'));
      await eventually(async () => (await handle.status()).state === 'running');
      assert.equal(await handle.cancel(), false);
      release();
      assert.equal(await handle.result(), null);
    });
  });

  it('of a task that became due and moved into the queue still keeps it from running', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handle = await queue.call(new NodeTask('Job:run'), { delay: 10 });
    await sleep(30);
    // Move it as a promoter does (no worker runs yet).
    const registry = new HandlerRegistry();
    let ran = 0;
    registry.register('Job:run', () => ran++);
    const { Sweeper } = await import('../../lib/core/index.js');
    const sweeper = new Sweeper({ queues: [queue], interval: 60_000, logger: quietLogger });
    sweeper.start();
    await eventually(async () => (await queue.len()) === 1);
    await sweeper.stop();
    assert.equal((await handle.status()).state, 'waiting');
    assert.equal(await handle.cancel(), true);
    const worker = new Worker({
      queues: [queue],
      handlers: registry,
      logger: quietLogger,
      dequeueTimeout: 200,
    });
    await worker.start();
    await eventually(
      async () => (await queue.len()) === 0 && (await queue.processingCount()) === 0,
    );
    await worker.close();
    assert.equal(ran, 0);
  });
});

describe('unique tasks', () => {
  it('exactly one of 20 concurrent producers enqueues; the others get its handle', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const producers = Array.from({ length: 20 }, () => new Redis(db.server.url));
    try {
      const handles = await Promise.all(
        producers.map((redis, i) =>
          new Queue(redis, queue.name).call(new NodeTask('Digest:send', [i]), {
            unique: { key: 'digest:user-7', ttl: 60_000 },
          }),
        ),
      );
      const created = handles.filter((handle) => handle.created);
      assert.equal(created.length, 1);
      assert.ok(handles.every((handle) => handle.id === created[0]!.id));
      assert.equal(await queue.len(), 1);
      const key = `${queue.name}_unique_digest:user-7`;
      assert.equal(await db.redis.get(key), created[0]!.id);
      const ttl = await db.redis.pttl(key);
      assert.ok(ttl > 55_000 && ttl <= 60_000, `ttl ${ttl}`);
    } finally {
      await Promise.all(producers.map((redis) => redis.quit()));
    }
  });

  it('frees the key when the task ends, fails or is cancelled', async () => {
    const queue = new Queue(db.redis, uniqueName(), { deadLetter: false });
    const unique = { key: 'k', ttl: 60_000 };
    const key = `${queue.name}_unique_k`;
    await withWorker(
      queue,
      {
        'U:ok': () => 'ok',
        'U:fail': () => {
          throw new Error('no');
        },
      },
      async () => {
        const done = await queue.call(new NodeTask('U:ok'), { unique });
        assert.equal(await done.result(), 'ok');
        assert.equal(await db.redis.exists(key), 0);
        const failed = await queue.call(new NodeTask('U:fail'), { unique });
        await assert.rejects(failed.result(), TaskFailedError);
        assert.equal(await db.redis.exists(key), 0);
      },
    );
    const later = await queue.call(new NodeTask('U:ok'), { unique, delay: 60_000 });
    const again = await queue.call(new NodeTask('U:ok'), { unique });
    assert.equal(again.created, false);
    assert.equal(again.id, later.id);
    // Scheduled for a minute: the key lives the minute plus its ttl.
    assert.ok((await db.redis.pttl(key)) > 115_000);
    assert.equal(await later.cancel(), true);
    assert.equal(await db.redis.exists(key), 0);
    assert.equal((await queue.call(new NodeTask('U:ok'), { unique, delay: 60_000 })).created, true);
  });

  it('never outlives its ttl, even if its owner is stuck', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const first = await queue.call(new NodeTask('U:run'), { unique: { key: 'x', ttl: 200 } });
    await sleep(300);
    const second = await queue.call(new NodeTask('U:run'), { unique: { key: 'x', ttl: 200 } });
    assert.equal(second.created, true);
    assert.notEqual(second.id, first.id);
  });

  it('a stale owner does not free the key of a newer task', async () => {
    const queue = new Queue(db.redis, uniqueName());
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await withWorker(queue, { 'U:slow': () => gate, 'U:quick': () => 1 }, async () => {
      const slow = await queue.call(new NodeTask('U:slow'), { unique: { key: 'y', ttl: 150 } });
      await eventually(async () => (await slow.status()).state === 'running');
      await sleep(250); // its key expired while it ran
      const quick = await queue.call(new NodeTask('U:quick'), {
        unique: { key: 'y', ttl: 60_000 },
        delay: 60_000,
      });
      assert.equal(quick.created, true);
      release();
      await slow.result();
      assert.equal(await db.redis.get(`${queue.name}_unique_y`), quick.id);
    });
  });
});

describe('records', () => {
  it('a late note of a retry never overwrites a later attempt', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handle = await queue.call(new NodeTask('Job:run', [], {}, 3));
    const { WorkerQueue } = await import('../../lib/core/worker/worker-queue.js');
    const worker = new WorkerQueue(queue, db.redis);
    const tracking = { id: handle.id };
    assert.equal(await worker.trackStart(tracking), 1);
    assert.equal(await worker.trackStart(tracking), 2); // the retry started elsewhere
    await worker.trackRequeued(tracking, 1); // attempt 1's note arrives late
    assert.deepEqual(await handle.status(), { state: 'running', attempts: 2 });
    await worker.trackRequeued(tracking, 2);
    assert.deepEqual(await handle.status(), { state: 'waiting', attempts: 2 });
  });
});

describe('waiting for results', () => {
  it('works on a lazily connecting producer connection', async () => {
    const producer = new Redis(db.server.url, { lazyConnect: true });
    try {
      const queue = new Queue(producer, uniqueName());
      await withWorker(new Queue(db.redis, queue.name), { 'L:run': () => 'lazy' }, async () => {
        const handle = await queue.call(new NodeTask('L:run'));
        assert.equal(await handle.result({ timeout: 5_000 }), 'lazy');
      });
    } finally {
      producer.disconnect();
    }
  });

  it('reject with RedisUnavailableError when the connection is closed', async () => {
    const producer = new Redis(db.server.url);
    const queue = new Queue(producer, uniqueName());
    const handle = await queue.call(new NodeTask('Never:run'));
    const waiting = handle.result({ timeout: 20_000 });
    await sleep(50);
    await producer.quit();
    await assert.rejects(waiting, { name: 'RedisUnavailableError' });
  });

  it('1,000 concurrent waiters share one subscriber connection', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const clientsBefore = await clientCount();
    await withWorker(
      queue,
      { 'Sq:run': (n: number) => n * n },
      async () => {
        const handles = await Promise.all(
          Array.from({ length: 1_000 }, (_, i) => queue.call(new NodeTask('Sq:run', [i]))),
        );
        const results = await Promise.all(handles.map((handle) => handle.result()));
        assert.deepEqual(
          results,
          handles.map((_, i) => i * i),
        );
      },
      { concurrency: 50 },
    );
    // The worker's connections are closed; the waiters' one subscriber may still linger.
    assert.ok((await clientCount()) <= clientsBefore + 1);
  });

  it('several waiters of one task, in other processes too, all get its result', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const ok = await queue.call(new NodeTask('W:run', ['ok']));
    const bad = await queue.call(new NodeTask('W:run', ['bad']));
    const children = [1, 2].map(() =>
      spawnProcess(process.execPath, [WAITER], {
        REDIS_URL: db.server.url,
        QUEUE: queue.name,
        IDS: `${ok.id},${bad.id}`,
      }),
    );
    await Promise.all(children.map((child) => child.waitForLine(/^waiting$/)));
    const local = [ok.result(), ok.result()];
    await withWorker(
      queue,
      {
        'W:run': (what: string) => {
          if (what === 'bad') throw new RangeError('bad input');
          return { what };
        },
      },
      async () => {
        assert.deepEqual(await Promise.all(local), [{ what: 'ok' }, { what: 'ok' }]);
        for (const child of children) {
          assert.equal(await child.exited, 0);
          const lines = child
            .output()
            .trim()
            .split('\n')
            .slice(1)
            .map((line) => JSON.parse(line) as Record<string, unknown>);
          assert.deepEqual(
            lines.sort((a, b) => String(a.id).localeCompare(String(b.id))),
            [
              { id: ok.id, value: { what: 'ok' } },
              { id: bad.id, error: 'bad input', name: 'TaskFailedError', errorName: 'RangeError' },
            ].sort((a, b) => a.id.localeCompare(b.id)),
          );
        }
      },
    );
  });

  it('a result that lands while the subscriber is disconnected is read after the reconnect', async () => {
    // A producer whose connections (its subscriber too) come back only after a second.
    const producer = new Redis(db.server.url, { retryStrategy: () => 1_000 });
    try {
      const queue = new Queue(producer, uniqueName());
      const handle = await queue.call(new NodeTask('R:run'));
      const result = handle.result({ timeout: 15_000 });
      const channel = `${queue.name}_done`;
      const subscribers = async () =>
        ((await db.redis.call('PUBSUB', 'NUMSUB', channel)) as [string, number])[1];
      await eventually(async () => (await subscribers()) === 1);
      const clients = (await db.redis.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
      for (const line of clients.trim().split('\n')) {
        const id = /\bid=(\d+)/.exec(line)?.[1];
        if (id !== undefined) await db.redis.call('CLIENT', 'KILL', 'ID', id);
      }
      let subscribedAtEnd = -1;
      await withWorker(
        new Queue(db.redis, queue.name),
        { 'R:run': () => 'after the cut' },
        async () => {
          await eventually(async () => (await queue.task(handle.id).status()).state === 'done');
          subscribedAtEnd = await subscribers();
          assert.equal(await result, 'after the cut');
        },
      );
      // The end was published to nobody: the waiter read it after its reconnect.
      assert.equal(subscribedAtEnd, 0);
    } finally {
      producer.disconnect();
    }
  });

  it('times out, and a timeout of no number is refused', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handle = await queue.call(new NodeTask('Never:run'));
    const started = Date.now();
    await assert.rejects(handle.result({ timeout: 200 }), ResultTimeoutError);
    assert.ok(Date.now() - started >= 190);
    await assert.rejects(handle.result({ timeout: 0 }), InvalidOptionsError);
  });
});

describe('call options', () => {
  it('are checked, with every problem named', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const task = new NodeTask('X:run');
    await assert.rejects(queue.call(task, { delay: -1 }), /delay must be a whole number/);
    await assert.rejects(queue.call(task, { delay: 1, at: 5 }), /delay or at, not both/);
    await assert.rejects(
      queue.call(task, { result: { ttl: 0 }, unique: { key: '', ttl: 1 } }),
      /result\.ttl must be .*; unique\.key must be/,
    );
    await assert.rejects(
      queue.call(task, { unique: { key: 'k' } as never }),
      /unique\.ttl must be .*always expires/,
    );
    await assert.rejects(
      queue.call(new (class extends Object {})() as never),
      /Only a NodeTask can be tracked/,
    );
    assert.throws(() => queue.task('nope'), InvalidOptionsError);
    assert.deepEqual(await allKeys(db.redis, queue.name), []);
  });

  it('a tracked task carries its id in a fifth element, kept through retries', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handle = await queue.call(new NodeTask('Y:run', [1], {}, 2));
    const [bytes] = await db.redis.lrangeBuffer(queue.name, 0, 0);
    const { decodeTask } = await import('../../lib/core/index.js');
    const decoded = decodeTask(bytes!);
    assert.equal(decoded.kind, 'py');
    assert.deepEqual(decoded.kind === 'py' && decoded.options, { id: handle.id });
  });
});

async function clientCount(): Promise<number> {
  const list = (await db.redis.call('CLIENT', 'LIST')) as string;
  return list.trim().split('\n').length;
}
