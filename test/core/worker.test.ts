import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import {
  currentTask,
  type DelayedLogger,
  encodeTask,
  GoTask,
  HandlerRegistry,
  NodeTask,
  PyTask,
  Queue,
  requeueLost,
  ShutdownDeadlineError,
  waitForDrained,
  type TaskFailedEvent,
  Worker,
} from '../../lib/core/index.js';
import { encodeMsgpack } from '../../lib/core/protocol/msgpack.js';
import {
  eventually,
  leftoverKeys,
  quietLogger,
  useRedisServer,
  uniqueName,
} from '../helpers/redis-server.js';
import { withWorker } from '../helpers/worker.js';

// CLIENT PAUSE reaches every client of the server: a private one, even under REDIS_URL.
const db = useRedisServer({ private: true });

function recordingLogger(lines: string[]): DelayedLogger {
  return {
    log: (m) => lines.push(`log ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

describe('Worker', () => {
  it('tells a handler its task through currentTask(), across awaits and concurrent tasks', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handlers = new HandlerRegistry();
    const seen: {
      tag: string;
      name: string;
      queue: string;
      retriesLeft: number;
      recorded: boolean;
    }[] = [];
    const inner = async (tag: string) => {
      await sleep(20);
      // Read after an await, in a helper the handler calls: the context follows.
      const context = currentTask()!;
      const recorded = (await db.redis.hexists(`${queue.name}_processing`, context.workerId)) === 1;
      seen.push({
        tag,
        name: context.name,
        queue: context.queue,
        retriesLeft: context.retriesLeft,
        recorded,
      });
      assert.equal(context.signal.aborted, false);
    };
    handlers.register('Ctx:run', (tag: string) => inner(tag));
    handlers.register('Ctx:flaky', async (tag: string) => {
      await inner(tag);
      if (currentTask()!.retriesLeft > 0) throw new Error('not yet');
    });
    await withWorker({ queues: [queue], handlers, concurrency: 4 }, async () => {
      await queue.enqueueMany([
        new NodeTask('Ctx:run', ['a']),
        new NodeTask('Ctx:run', ['b'], {}, 5),
        new NodeTask('Ctx:flaky', ['f'], {}, 2),
      ]);
      await eventually(() => seen.length === 5, 5_000, 'five runs');
    });
    const byTag = (tag: string) => seen.filter((s) => s.tag === tag).map((s) => s.retriesLeft);
    assert.deepEqual(byTag('a'), [0]);
    assert.deepEqual(byTag('b'), [5]);
    assert.deepEqual(byTag('f'), [2, 1, 0], 'each attempt sees the retries it has left');
    assert.ok(seen.every((s) => s.recorded && s.queue === queue.name));
    assert.deepEqual(new Set(seen.map((s) => s.name)), new Set(['Ctx:run', 'Ctx:flaky']));
    assert.equal(currentTask(), undefined, 'no task outside a handler');
  });

  it('runs tasks with their args and kwargs, then leaves nothing behind', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const calls: unknown[][] = [];
    const handlers = new HandlerRegistry();
    handlers.register('Math:add', (...args: unknown[]) => {
      calls.push(args);
    });
    await withWorker({ queues: [queue], handlers }, async () => {
      await queue.enqueue(new NodeTask('Math:add', [1, 2]));
      await queue.enqueue(new NodeTask('Math:add', [1], { b: 2 }));
      await waitForDrained(queue, { timeout: 5_000 });
      assert.deepEqual(calls, [
        [1, 2],
        [1, { b: 2 }],
      ]);
    });
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
  });

  it('awaits async handlers and keeps `this`', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const service = {
      seen: [] as string[],
      async handle(value: string) {
        await sleep(5);
        this.seen.push(value);
      },
    };
    const handlers = new HandlerRegistry();
    handlers.register('Svc:handle', service.handle.bind(service));
    await withWorker({ queues: [queue], handlers }, async () => {
      await queue.enqueue(new NodeTask('Svc:handle', ['x']));
      await eventually(() => service.seen.length === 1);
    });
    assert.deepEqual(service.seen, ['x']);
  });

  it('runs up to `concurrency` tasks at once, each slot under its own id', async () => {
    const queue = new Queue(db.redis, uniqueName());
    let running = 0;
    let peak = 0;
    let done = 0;
    const handlers = new HandlerRegistry();
    handlers.register('Slow:run', async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(50);
      running--;
      done++;
    });
    await withWorker({ queues: [queue], handlers, concurrency: 4 }, async (worker) => {
      assert.equal(new Set(worker.slotIds).size, 4);
      for (const id of worker.slotIds)
        assert.equal(await db.redis.exists(id), 1, 'liveness key per slot');
      assert.ok(worker.slotIds.length <= 8, 'at most two ids per slot');
      await queue.enqueueMany(Array.from({ length: 12 }, () => new NodeTask('Slow:run')));
      await eventually(
        async () => (await queue.processingCount()) === 4,
        5_000,
        'four held at once',
      );
      const held = await db.redis.hkeys(`${queue.name}_processing`);
      assert.equal(new Set(held).size, 4);
      for (const id of held)
        assert.ok(worker.slotIds.includes(id), 'held under a slot id of this worker');
      await eventually(() => done === 12, 10_000, 'all done');
    });
    assert.equal(peak, 4);
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
  });

  it('drains a large batch with many slots and loses nothing', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const seen = new Set<number>();
    let calls = 0;
    const handlers = new HandlerRegistry();
    handlers.register('Count:n', (n: number) => {
      calls++;
      seen.add(n);
    });
    await withWorker({ queues: [queue], handlers, concurrency: 50 }, async () => {
      await queue.enqueueMany(
        Array.from({ length: 5_000 }, (_, i) => new NodeTask('Count:n', [i])),
      );
      await waitForDrained(queue, { timeout: 20_000 });
      assert.equal(seen.size, 5_000);
      assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
    });
    assert.equal(calls, 5_000, 'each task ran exactly once');
  });

  it('serves several queues, the first listed first', async () => {
    const high = new Queue(db.redis, uniqueName('high'));
    const low = new Queue(db.redis, uniqueName('low'));
    const order: string[] = [];
    const handlers = new HandlerRegistry();
    handlers.register('P:run', (label: string) => {
      order.push(label);
    });
    await low.enqueueMany([new NodeTask('P:run', ['low1']), new NodeTask('P:run', ['low2'])]);
    await high.enqueueMany([new NodeTask('P:run', ['high1']), new NodeTask('P:run', ['high2'])]);
    await withWorker({ queues: [high, low], handlers }, async () => {
      await eventually(() => order.length === 4);
      // And when idle, one BLPOP over both wakes up for either.
      await low.enqueue(new NodeTask('P:run', ['late-low']));
      await eventually(() => order.length === 5);
    });
    assert.deepEqual(order, ['high1', 'high2', 'low1', 'low2', 'late-low']);
  });

  it('retries a failing task `retry` times, then buries it (retry=2 runs 3 times)', async () => {
    const queue = new Queue(db.redis, uniqueName());
    let attempts = 0;
    const handlers = new HandlerRegistry();
    handlers.register('Flaky:run', () => {
      attempts++;
      throw new Error(`attempt ${attempts} failed`);
    });
    await withWorker({ queues: [queue], handlers }, async () => {
      await queue.enqueue(new NodeTask('Flaky:run', ['x'], {}, 2));
      await eventually(async () => (await queue.deadLetters.count()) === 1, 5_000, 'a dead letter');
    });
    assert.equal(attempts, 3);
    const [letter] = await queue.deadLetters.list();
    assert.equal(letter!.reason, 'failed');
    assert.equal(letter!.error, 'attempt 3 failed');
    assert.equal(letter!.funcPath, 'Flaky:run');
    assert.deepEqual(
      letter!.task,
      encodeTask(new NodeTask('Flaky:run', ['x'])),
      'the last attempt, bytes as queued',
    );
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
  });

  it('succeeds on a retry and stops there', async () => {
    const queue = new Queue(db.redis, uniqueName());
    let attempts = 0;
    const handlers = new HandlerRegistry();
    handlers.register('Flaky:once', () => {
      if (++attempts === 1) throw new Error('first time fails');
    });
    await withWorker({ queues: [queue], handlers }, async () => {
      await queue.enqueue(new NodeTask('Flaky:once', [], {}, 5));
      await eventually(() => attempts === 2);
      await sleep(100);
    });
    assert.equal(attempts, 2);
    assert.equal(await queue.deadLetters.count(), 0);
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
  });

  it('buries unknown handlers, Go tasks and undecodable bytes, and carries on', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const lines: string[] = [];
    let ran = 0;
    const handlers = new HandlerRegistry();
    handlers.register('Known:run', () => {
      ran++;
    });
    await withWorker({ queues: [queue], handlers, logger: recordingLogger(lines) }, async () => {
      await queue.enqueue(new NodeTask('Nobody:home', [1]));
      await queue.enqueue(new GoTask('main.F', [1]));
      await queue.enqueue(Buffer.from('\xc1garbage', 'latin1'));
      await queue.enqueue(encodeMsgpack({ not: 'a task' }));
      await queue.enqueue(new NodeTask('Known:run'));
      await eventually(() => ran === 1);
      await eventually(
        async () => (await queue.deadLetters.count()) === 4,
        5_000,
        'four dead letters',
      );
    });
    const letters = await queue.deadLetters.list();
    assert.deepEqual(
      letters.map((l) => l.reason),
      ['unknown-handler', 'unknown-handler', 'undecodable', 'undecodable'],
    );
    assert.match(letters[0]!.error, /No handler named "Nobody:home"/);
    assert.match(letters[1]!.error, /is a Go task/);
    assert.deepEqual(letters[2]!.task, Buffer.from('\xc1garbage', 'latin1'), 'original bytes kept');
    assert.equal(letters[2]!.funcPath, null);
    assert.ok(
      lines.some(
        (l) => l.startsWith('error') && l.includes('Nobody:home') && l.includes('dead letters'),
      ),
    );
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
  });

  it('buries what a handler throws even when it is not an Error, and keeps its slot', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handlers = new HandlerRegistry();
    handlers.register('Odd:throw', (kind: string) => {
      throw kind === 'bare'
        ? Object.create(null)
        : kind === 'undefined'
          ? undefined
          : 'just a string';
    });
    let ran = 0;
    handlers.register('Known:run', () => {
      ran++;
    });
    await withWorker({ queues: [queue], handlers, logger: quietLogger }, async () => {
      for (const kind of ['bare', 'undefined', 'string'])
        await queue.enqueue(new NodeTask('Odd:throw', [kind]));
      await eventually(
        async () => (await queue.deadLetters.count()) === 3,
        5_000,
        'three dead letters',
      );
      // A slot that never came back would starve the pool (2 slot ids at concurrency 1).
      await queue.enqueue(new NodeTask('Known:run'));
      await eventually(() => ran === 1);
    });
    const letters = await queue.deadLetters.list();
    assert.deepEqual(
      letters.map((l) => l.error),
      ['[object Object]', 'undefined', 'just a string'],
    );
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
  });

  it('retries any negative retry for ever, as Python does with -2, and keeps its slots', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const attempts = new Map<string, number>();
    const handlers = new HandlerRegistry();
    handlers.register('F:fail', (tag: string) => {
      const n = (attempts.get(tag) ?? 0) + 1;
      attempts.set(tag, n);
      if (n < 4) throw new Error(`attempt ${n}`);
    });
    let ran = 0;
    handlers.register('Known:run', () => {
      ran++;
    });
    await withWorker({ queues: [queue], handlers, concurrency: 1 }, async () => {
      await queue.enqueue(encodeMsgpack(['F:fail', ['a'], {}, -2]));
      await queue.enqueue(encodeMsgpack(['F:fail', ['b'], {}, -7]));
      await queue.enqueue(new NodeTask('Known:run'));
      await eventually(
        () => ran === 1 && attempts.get('a') === 4 && attempts.get('b') === 4,
        5_000,
        'every task',
      );
      await sleep(50);
    });
    assert.equal(await queue.deadLetters.count(), 0);
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
  });

  it('buries a failed task whose next attempt cannot be encoded, and keeps its slot', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handlers = new HandlerRegistry();
    handlers.register('F:deep', () => {
      throw new Error('always');
    });
    let ran = 0;
    handlers.register('Known:run', () => {
      ran++;
    });
    // Bytes nested deeper than any peer writes: readable, but a retry cannot write them back.
    const deep = Buffer.concat([
      Buffer.from([0x94]),
      encodeMsgpack('F:deep'),
      Buffer.alloc(1_100, 0x91),
      Buffer.from([0x01, 0x80, 0x01]),
    ]);
    await withWorker({ queues: [queue], handlers, concurrency: 1 }, async () => {
      await queue.enqueue(deep);
      await queue.enqueue(deep);
      await queue.enqueue(new NodeTask('Known:run'));
      await eventually(() => ran === 1, 5_000, 'the task after them');
      await eventually(
        async () => (await queue.deadLetters.count()) === 2,
        5_000,
        'two dead letters',
      );
    });
    const letters = await queue.deadLetters.list();
    assert.deepEqual(
      letters.map((l) => l.reason),
      ['failed', 'failed'],
    );
    assert.match(
      letters[0]!.error,
      /^always \(not retried: its next attempt cannot be encoded: .*Too deep/,
    );
    assert.deepEqual(letters[0]!.task, deep, 'the bytes as they were');
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
  });

  it('frees a slot whose ending threw (a logger that throws), leaving the task to a sweeper', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handlers = new HandlerRegistry();
    let ran = 0;
    handlers.register('Known:run', () => {
      ran++;
    });
    const throwing: DelayedLogger = {
      log() {},
      warn() {},
      error() {
        throw new Error('the log is full');
      },
    };
    await withWorker(
      { queues: [queue], handlers, concurrency: 1, logger: throwing },
      async (worker) => {
        const before = worker.slotIds;
        await queue.enqueue(new NodeTask('Nobody:home'));
        await queue.enqueue(new NodeTask('Nobody:home'));
        await queue.enqueue(new NodeTask('Known:run'));
        await eventually(() => ran === 1, 5_000, 'the task after them');
        // Both unknown-handler tasks stay recorded under ids the worker no longer refreshes.
        const held = await db.redis.hkeys(`${queue.name}_processing`);
        assert.equal(held.length, 2);
        for (const id of held)
          assert.ok(!worker.slotIds.includes(id), 'a retired id is not refreshed');
        assert.ok(held.every((id) => before.includes(id) || !worker.slotIds.includes(id)));
      },
    );
  });

  it('with dead letters off, logs and drops, leaving nothing', async () => {
    const queue = new Queue(db.redis, uniqueName(), { deadLetter: false });
    const lines: string[] = [];
    const handlers = new HandlerRegistry();
    handlers.register('Bad:run', () => {
      throw new Error('boom');
    });
    const events: string[] = [];
    await withWorker(
      { queues: [queue], handlers, logger: recordingLogger(lines) },
      async (worker) => {
        worker.on('failed', (event) => events.push(event.outcome));
        await queue.enqueue(new NodeTask('Bad:run'));
        await queue.enqueue(new NodeTask('Missing:run'));
        await eventually(() => events.length === 2);
      },
    );
    assert.deepEqual(events, ['dropped', 'dropped']);
    assert.equal(await db.redis.exists(`${queue.name}_dead`), 0);
    assert.ok(lines.some((l) => l.includes('dropped') && l.includes('boom')));
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
  });

  it('stops gracefully: finishes running tasks, releases them, goes offline', async () => {
    const queue = new Queue(db.redis, uniqueName());
    let finished = 0;
    const handlers = new HandlerRegistry();
    handlers.register('Slow:run', async () => {
      await sleep(300);
      finished++;
    });
    const worker = new Worker({ queues: [queue], handlers, concurrency: 2, logger: quietLogger });
    await worker.start();
    await queue.enqueueMany([
      new NodeTask('Slow:run'),
      new NodeTask('Slow:run'),
      new NodeTask('Slow:run'),
    ]);
    await eventually(() => worker.runningCount === 2);
    const ids = worker.slotIds;
    const started = Date.now();
    await worker.close();
    assert.ok(Date.now() - started < 2_000, 'BLPOP is interrupted, not waited out');
    assert.equal(finished, 2);
    assert.equal(await queue.len(), 1, 'the third task was never taken');
    assert.equal(await queue.processingCount(), 0);
    for (const id of ids) assert.equal(await db.redis.exists(id), 0, 'liveness keys deleted');
  });

  it('leaves tasks still running at the shutdown deadline recoverable', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handlers = new HandlerRegistry();
    handlers.register('Stuck:run', () => sleep(3_000));
    const worker = new Worker({
      queues: [queue],
      handlers,
      shutdownTimeout: 200,
      logger: quietLogger,
    });
    await worker.start();
    await queue.enqueue(new NodeTask('Stuck:run'));
    await eventually(() => worker.runningCount === 1);
    await worker.close();
    assert.equal(await queue.processingCount(), 1, 'still held, not dropped');
    const [id] = await db.redis.hkeys(`${queue.name}_processing`);
    assert.equal(await db.redis.exists(id!), 0, 'its worker is offline');
    assert.equal((await requeueLost(queue)).requeued, 1);
    assert.equal(await queue.len(), 1);
  });

  it('aborts the signal of tasks still running at the deadline; an aborted task is interrupted, not failed', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handlers = new HandlerRegistry();
    const seen: { retriesLeft: number; reason: unknown }[] = [];
    handlers.register('Long:run', async () => {
      const { signal, retriesLeft } = currentTask()!;
      // Cooperative: waits until the worker gives up on it, then stops with the reason.
      await new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason)),
      );
      seen.push({ retriesLeft, reason: signal.reason });
    });
    handlers.register('Done:run', async () => {
      await sleep(400);
    });
    const events: TaskFailedEvent[] = [];
    const worker = new Worker({
      queues: [queue],
      handlers,
      concurrency: 2,
      shutdownTimeout: 200,
      logger: quietLogger,
    });
    worker.on('failed', (event) => events.push(event));
    await worker.start();
    await queue.enqueue(new NodeTask('Long:run', [], {}, 0));
    await queue.enqueue(new NodeTask('Done:run'));
    await eventually(() => worker.runningCount === 2);
    await worker.stop();
    await eventually(() => events.length === 1);
    assert.equal(events[0]!.outcome, 'interrupted');
    assert.ok(events[0]!.error instanceof ShutdownDeadlineError, String(events[0]!.error));
    await eventually(() => worker.runningCount === 0, 2_000, 'Done:run ends');
    await worker.close();
    // No retry spent, no dead letter: the interrupted task stays recorded, the finished one
    // (it ignored the signal) is released. A sweeper puts the interrupted one back as it was.
    assert.equal(await queue.deadLetters.count(), 0);
    assert.equal(await queue.len(), 0);
    assert.equal(await queue.processingCount(), 1);
    assert.equal((await requeueLost(queue)).requeued, 1);
    const [bytes] = await db.redis.lrangeBuffer(queue.name, 0, -1);
    assert.deepEqual(bytes, encodeTask(new NodeTask('Long:run', [], {}, 0)));
    assert.equal(seen.length, 0, 'the handler rejected rather than completing');
    await db.redis.del(queue.name, `${queue.name}_noti`);
  });

  it('never clears a task a dequeue took after the shutdown deadline', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handlers = new HandlerRegistry();
    const ran: string[] = [];
    handlers.register('Late:run', async (name: string) => {
      ran.push(name);
      if (name === 'a') await sleep(300);
    });
    const worker = new Worker({
      queues: [queue],
      handlers,
      shutdownTimeout: 200,
      logger: quietLogger,
    });
    await worker.start();
    await queue.enqueue(new NodeTask('Late:run', ['a']));
    await eventually(() => worker.runningCount === 1);
    await queue.enqueue(new NodeTask('Late:run', ['b']));
    // Hold every command for 1.5 s: when "a" ends, the dequeue that takes "b" waits in Redis
    // past the drain's deadline, and the worker's go-offline transaction queues behind it.
    const admin = db.server.client();
    await admin.client('PAUSE', 1_500, 'ALL');
    await sleep(400); // "a" has ended; the dequeue for "b" is sent and held
    await worker.close();
    assert.deepEqual(ran, ['a'], 'b was not started after the deadline');
    const held = (await queue.processingCount()) + (await queue.len());
    assert.equal(held, 1, 'b is still in Redis, not cleared by going offline');
    await eventually(
      async () => (await requeueLost(queue)).requeued === 1 || (await queue.len()) === 1,
      5_000,
    );
    assert.equal(await queue.len(), 1, 'a sweeper puts b back');
  });

  it('validates its options', () => {
    const queue = new Queue(db.redis, uniqueName());
    const handlers = new HandlerRegistry();
    assert.throws(
      () => new Worker({ queues: [queue], handlers, concurrency: 0 }),
      /concurrency must be a positive integer/,
    );
    assert.throws(() => new Worker({ queues: [], handlers }), /at least one queue/);
    assert.throws(
      () =>
        new Worker({
          queues: [queue],
          handlers,
          keepAliveInterval: 5_000,
          keepAliveTimeout: 1_000,
        }),
      /keepAliveInterval \(5000 ms\) must be shorter than keepAliveTimeout/,
    );
    assert.throws(
      () => new Worker({ queues: [queue], handlers, dequeueTimeout: -1 }),
      /dequeueTimeout must be a positive/,
    );
  });

  it('starts without calling its start a reconnect: its first ids are claimed, not replaced', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const lines: string[] = [];
    const worker = new Worker({
      queues: [queue],
      handlers: new HandlerRegistry(),
      concurrency: 3,
      logger: recordingLogger(lines),
    });
    const before = worker.slotIds;
    await worker.start();
    try {
      assert.deepEqual(worker.slotIds, before, 'no id was taken by a refresh before the claim');
      for (const id of before) assert.equal(await db.redis.exists(id), 1);
      assert.deepEqual(
        lines.filter((line) => /Reconnected|Lost the connection/.test(line)),
        [],
      );
    } finally {
      await worker.close();
    }
  });

  it('reports a keep-alive that Redis refuses (OOM), instead of letting the keys lapse quietly', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const lines: string[] = [];
    await withWorker(
      {
        queues: [queue],
        handlers: new HandlerRegistry(),
        keepAliveInterval: 100,
        keepAliveTimeout: 5_000,
        logger: recordingLogger(lines),
      },
      async () => {
        await db.redis.config('SET', 'maxmemory', '1');
        try {
          await eventually(
            () => lines.some((line) => line.startsWith('warn Keep-alive failed: OOM')),
            5_000,
            'a keep-alive warning',
          );
        } finally {
          await db.redis.config('SET', 'maxmemory', '0');
        }
      },
    );
  });

  it('keeps a popped notification when the command connection is down, and runs its task', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handlers = new HandlerRegistry();
    let ran = 0;
    handlers.register('Held:run', () => {
      ran++;
    });
    const clients = async () =>
      String(await db.redis.client('LIST'))
        .trim()
        .split('\n')
        .map((line) => Object.fromEntries(line.split(' ').map((field) => field.split('='))));
    // Clients older than the worker (other tests' included) are not the worker's.
    const before = Math.max(...(await clients()).map((c) => Number(c.id)));
    await withWorker({ queues: [queue], handlers, dequeueTimeout: 5_000 }, async () => {
      await sleep(100); // the worker is idle in its BLPOP
      // The worker's command connection: newer than `before`, not blocked in BLPOP, and not
      // its wake-up subscriber.
      const all = await clients();
      const commands = all.filter(
        (c) => Number(c.id) > before && c.cmd !== 'blpop' && c.cmd !== 'subscribe',
      );
      assert.equal(commands.length, 1, JSON.stringify(all));
      // Kill it and enqueue at once: the BLPOP hands over the notification while the dequeue
      // cannot be sent. No sweeper runs here: a lost notification would strand the task.
      await db.redis.client('KILL', 'ID', commands[0]!.id);
      await queue.enqueue(new NodeTask('Held:run'));
      await eventually(() => ran === 1, 5_000, 'the task of the held notification');
    });
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
  });

  it('refreshes liveness keys while it runs', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await withWorker(
      {
        queues: [queue],
        handlers: new HandlerRegistry(),
        keepAliveInterval: 100,
        keepAliveTimeout: 300,
      },
      async (worker) => {
        await sleep(700);
        for (const id of worker.slotIds) assert.equal(await db.redis.exists(id), 1);
      },
    );
  });
});

describe('a broken queue', () => {
  it('is reported and does not disturb the other queues or exceed concurrency', async () => {
    const good = new Queue(db.redis, uniqueName('good'));
    const broken = new Queue(db.redis, uniqueName('broken'));
    await db.redis.set(`${broken.name}_noti`, 'not a list'); // WRONGTYPE for every dequeue
    const lines: string[] = [];
    const runs = new Map<number, number>();
    let running = 0;
    let peak = 0;
    const handlers = new HandlerRegistry();
    handlers.register('Good:run', async (n: number) => {
      running++;
      peak = Math.max(peak, running);
      await sleep(30);
      running--;
      runs.set(n, (runs.get(n) ?? 0) + 1);
    });
    // A steady trickle keeps the good queue partly filling the free slots, so the broken
    // queue's dequeue fails right after some slots were given tasks.
    await withWorker(
      { queues: [good, broken], handlers, concurrency: 2, logger: recordingLogger(lines) },
      async () => {
        for (let i = 0; i < 30; i++) {
          await good.enqueue(new NodeTask('Good:run', [i]));
          await sleep(7);
        }
        await eventually(() => runs.size === 30, 20_000, 'the good queue drained');
      },
    );
    assert.ok(peak <= 2, `ran ${peak} tasks at once with concurrency 2`);
    assert.ok(
      [...runs.values()].every((count) => count === 1),
      'each task ran once',
    );
    assert.ok(
      lines.some((l) => l.startsWith('error Fetching tasks failed') && l.includes('WRONGTYPE')),
    );
    assert.deepEqual(await leftoverKeys(db.redis, good.name), []);
    await db.redis.del(`${broken.name}_noti`);
  });
});

describe('a stray notification', () => {
  it('does not disturb a worker', async () => {
    const queue = new Queue(db.redis, uniqueName());
    let ran = 0;
    const handlers = new HandlerRegistry();
    handlers.register('S:run', () => {
      ran++;
    });
    await db.redis.rpush(`${queue.name}_noti`, '1', '1', '1');
    await withWorker({ queues: [queue], handlers }, async () => {
      await sleep(300);
      await queue.enqueue(new PyTask('S:run'));
      await eventually(() => ran === 1);
    });
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
  });
});
