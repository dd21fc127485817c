/**
 * Interop with the real Python peer (PyPI `delayed`, pinned in test/interop/python/
 * requirements.txt, installed by test/interop/setup.sh). Every case runs the peer's own code
 * in its own process against a throw-away redis-server.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import {
  encodeTask,
  GoTask,
  NodeTask,
  PyTask,
  Queue,
  Scheduler,
  Sweeper,
} from '../../lib/core/index.js';
import { encodeMsgpack } from '../../lib/core/protocol/msgpack.js';
import { fromTagged, toTagged } from '../fixtures/tagged-json.js';
import { type Spawned, spawnProcess, startWorkerApp } from '../helpers/processes.js';
import {
  eventually,
  leftoverKeys,
  quietLogger,
  startRedis,
  type TestRedis,
  uniqueName,
} from '../helpers/redis-server.js';

const PEER_DIR = fileURLToPath(new URL('../../../test/interop/python/', import.meta.url));
const PYTHON = join(PEER_DIR, '.venv', 'bin', 'python');
const HARNESS = join(PEER_DIR, 'harness.py');
const VALUES = fileURLToPath(new URL('../../../test/interop/values.json', import.meta.url));

interface ValueCase {
  name: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
}
const valueCases: ValueCase[] = JSON.parse((await import('node:fs')).readFileSync(VALUES, 'utf8'));

let server: TestRedis;
let redis: Redis;
const running: Spawned[] = [];

before(async () => {
  if (!existsSync(PYTHON)) {
    throw new Error(
      `The Python peer is not installed (${PYTHON} is missing): run test/interop/setup.sh python`,
    );
  }
  server = await startRedis();
  redis = server.client();
});
after(async () => {
  for (const process of running) process.child.kill('SIGKILL');
  await server?.stop();
});

function python(args: string[]): Spawned {
  const spawned = spawnProcess(PYTHON, [HARNESS, ...args], { INTEROP_LOG_LEVEL: 'WARNING' });
  running.push(spawned);
  return spawned;
}

/** A Python `delayed` worker serving `queue`, its tasks recording to `resultsKey`, once ready. */
async function pythonWorker(queue: string, resultsKey: string): Promise<Spawned> {
  const worker = python([
    ...['worker', '--redis', server.url, '--queue', queue],
    ...['--results-key', resultsKey, '--dequeue-timeout', '0.2'],
  ]);
  await worker.waitForLine(/"event":\s*"ready"/);
  return worker;
}

/**
 * Runs our worker app on `queue` until the queue has a dead letter, then stops it; its
 * handlers record to `resultsKey`. Returns the queue, to read the dead letter.
 */
async function runOurWorkerUntilDeadLetter(queue: string, resultsKey: string): Promise<Queue> {
  const worker = await startWorkerApp({
    REDIS_URL: server.url,
    QUEUE: queue,
    RESULTS_KEY: resultsKey,
  });
  running.push(worker);
  const dead = new Queue(redis, queue);
  try {
    await eventually(async () => (await dead.deadLetters.count()) === 1, 10_000, 'a dead letter');
  } finally {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }
  return dead;
}

async function pythonOnce(args: string[]): Promise<string[]> {
  const spawned = python(args);
  const code = await spawned.exited;
  assert.equal(code, 0, `harness ${args[0]} failed:\n${spawned.output()}`);
  return spawned.output().trim().split('\n').filter(Boolean);
}

function casesFile(cases: unknown[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'interop-')), 'cases.json');
  writeFileSync(file, JSON.stringify(cases));
  return file;
}

/** One JSON record a peer's handler wrote; its fields depend on the handler. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- records are free-form JSON read field by field
type PeerRecord = Record<string, any>;

async function records(key: string): Promise<PeerRecord[]> {
  return (await redis.lrange(key, 0, -1)).map((line) => JSON.parse(line));
}

/** What a JavaScript handler should receive for a case: its args, then kwargs if any. */
function jsArgs(value: ValueCase): unknown[] {
  const args = fromTagged(value.args) as unknown[];
  return Object.keys(value.kwargs).length > 0 ? [...args, fromTagged(value.kwargs)] : args;
}

describe('Python delayed -> nestjs-delayed', () => {
  it('runs PyTasks enqueued by Python on our Nest worker, every value of the matrix intact', async () => {
    const queue = uniqueName('py2node');
    const resultsKey = uniqueName('results');
    const cases = valueCases.map((value) => ({
      name: value.name,
      func: 'InteropHandlers:record',
      args: value.args,
      kwargs: value.kwargs,
      retry: 0,
    }));
    await pythonOnce([
      'enqueue-cases',
      '--redis',
      server.url,
      '--queue',
      queue,
      '--cases',
      casesFile(cases),
    ]);
    assert.equal(await redis.llen(queue), valueCases.length);

    const worker = await startWorkerApp({
      REDIS_URL: server.url,
      QUEUE: queue,
      RESULTS_KEY: resultsKey,
    });
    running.push(worker);
    try {
      await eventually(
        async () => (await redis.llen(resultsKey)) === valueCases.length,
        15_000,
        'every case recorded',
      );
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    const got = await records(resultsKey);
    valueCases.forEach((value, i) => {
      assert.deepEqual(fromTagged(got[i]!.args), jsArgs(value), `case ${value.name}`);
    });
    assert.deepEqual(await leftoverKeys(redis, queue), []);
    await redis.del(resultsKey);
  });

  it('retries a Python task with retry=2 exactly 3 times, then keeps it as a dead letter', async () => {
    const queue = uniqueName('py-retry');
    const resultsKey = uniqueName('results');
    await pythonOnce([
      'enqueue',
      '--redis',
      server.url,
      '--queue',
      queue,
      '--func',
      'InteropHandlers:fail',
      '--args-json',
      '["r1"]',
      '--retry',
      '2',
    ]);
    const dead = await runOurWorkerUntilDeadLetter(queue, resultsKey);
    assert.equal((await records(resultsKey)).filter((r) => r.tag === 'r1').length, 3);
    const [letter] = await dead.deadLetters.list();
    assert.equal(letter!.reason, 'failed');
    assert.equal(letter!.funcPath, 'InteropHandlers:fail');
    assert.match(letter!.error, /always fails/);
    assert.deepEqual(await leftoverKeys(redis, queue), []);
    await dead.deadLetters.purge();
    await redis.del(resultsKey);
  });
});

describe('Python delayed -> nestjs-delayed, with a backoff', () => {
  it("backs off a Python caller's retry=3 task by our handler's policy: 100, 200, 400 ms", async () => {
    const queue = uniqueName('py-backoff');
    const resultsKey = uniqueName('results');
    await pythonOnce([
      ...['enqueue', '--redis', server.url, '--queue', queue],
      ...['--func', 'InteropHandlers:backoff', '--args-json', '["b1"]', '--retry', '3'],
    ]);
    const dead = await runOurWorkerUntilDeadLetter(queue, resultsKey);
    const attempts = (await records(resultsKey)).map((r) => r.at as number);
    assert.equal(attempts.length, 4);
    const waits = attempts.slice(1).map((at, i) => at - attempts[i]!);
    for (const [i, expected] of [100, 200, 400].entries()) {
      assert.ok(
        waits[i]! >= expected - 2 && waits[i]! < expected + 150,
        `wait ${i + 1}: ${waits[i]} ms, expected ${expected}`,
      );
    }
    assert.deepEqual(await leftoverKeys(redis, queue), []);
    assert.equal(await redis.exists(`${queue}_scheduled`), 0);
    await dead.deadLetters.purge();
    await redis.del(resultsKey);
  });
});

describe('nestjs-delayed -> Python delayed', () => {
  it('a periodic schedule of a PyTask: our scheduler fires it, the Python worker runs each tick', async () => {
    const queue = new Queue(redis, uniqueName('node2py-every'));
    const resultsKey = uniqueName('results');
    await queue.schedules.set(
      'py-beat',
      { every: 200 },
      new PyTask('interop_tasks:record', ['beat']),
    );
    const scheduler = new Scheduler({ queues: [queue], logger: quietLogger });
    scheduler.start();
    const worker = await pythonWorker(queue.name, resultsKey);
    try {
      await eventually(async () => (await redis.llen(resultsKey)) >= 3, 10_000, 'three ticks run');
    } finally {
      await scheduler.stop();
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    for (const record of await records(resultsKey))
      assert.deepEqual(fromTagged(record.args), ['beat']);
    assert.equal(await queue.schedules.remove('py-beat'), true);
    await redis.del(resultsKey, queue.name, `${queue.name}_noti`);
  });

  it('a for-ever budget counted below -1 (as our backoff writes it) is still "for ever" to Python', async () => {
    const queue = new Queue(redis, uniqueName('node2py-forever'));
    const resultsKey = uniqueName('results');
    // What our worker writes for the third attempt of a for-ever task with a backoff.
    await queue.enqueue(encodeMsgpack(['interop_tasks:flaky', ['neg', 2], {}, -3]));
    const worker = await pythonWorker(queue.name, resultsKey);
    try {
      await eventually(
        async () => (await records(resultsKey)).some((r) => r.ok === true),
        10_000,
        'the third attempt to succeed',
      );
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    const attempts = (await records(resultsKey)).filter((r) => r.func === 'flaky');
    assert.deepEqual(
      attempts.map((r) => r.ok),
      [false, false, true],
    );
    assert.deepEqual(await leftoverKeys(redis, queue.name), []);
    await redis.del(resultsKey, `${resultsKey}:flaky:neg`);
  });

  it('schedules PyTasks that the Python worker runs once due (our sweeper moves them in)', async () => {
    const queue = new Queue(redis, uniqueName('node2py-later'));
    const resultsKey = uniqueName('results');
    const scheduled = await queue.scheduleMany(
      [
        new PyTask('interop_tasks:record', ['later', 1]),
        new PyTask('interop_tasks:record', ['later', 1]),
      ],
      { delay: 500 },
    );
    const sweeper = new Sweeper({ queues: [queue], logger: quietLogger });
    sweeper.start();
    const worker = await pythonWorker(queue.name, resultsKey);
    try {
      await eventually(
        async () => (await redis.llen(resultsKey)) === 2,
        15_000,
        'both scheduled tasks run',
      );
      assert.ok(Date.now() >= scheduled[0]!.dueAt, 'not before their time');
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
      await sweeper.stop();
    }
    const got = await records(resultsKey);
    assert.deepEqual(
      got.map((r) => fromTagged(r.args)),
      [
        ['later', 1],
        ['later', 1],
      ],
    );
    assert.deepEqual(await leftoverKeys(redis, queue.name), []);
    assert.equal(await redis.exists(`${queue.name}_scheduled`), 0);
    await redis.del(resultsKey);
  });

  it('enqueues PyTasks the Python worker runs, every value of the matrix intact', async () => {
    const queue = new Queue(redis, uniqueName('node2py'));
    const resultsKey = uniqueName('results');
    await queue.enqueueMany(
      valueCases.map(
        (value) =>
          new PyTask(
            'interop_tasks:record',
            fromTagged(value.args) as unknown[],
            fromTagged(value.kwargs) as Record<string, unknown>,
          ),
      ),
    );
    const worker = await pythonWorker(queue.name, resultsKey);
    try {
      await eventually(
        async () => (await redis.llen(resultsKey)) === valueCases.length,
        15_000,
        'every case recorded',
      );
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    const got = await records(resultsKey);
    valueCases.forEach((value, i) => {
      // Compared as JavaScript sees them: a JS number with an integral value (1.0) is an
      // integer on the wire, which Python receives as int (see docs/protocol.md).
      assert.deepEqual(fromTagged(got[i]!.args), fromTagged(value.args), `args of ${value.name}`);
      assert.deepEqual(
        fromTagged(got[i]!.kwargs),
        fromTagged(value.kwargs),
        `kwargs of ${value.name}`,
      );
    });
    // Non-integral floats and big integers keep their exact types.
    const floats = got[valueCases.findIndex((v) => v.name === 'float-pi')]!;
    assert.deepEqual(floats.args, [{ $float: 3.141592653589793 }]);
    const bytes = got[valueCases.findIndex((v) => v.name === 'str-vs-bytes')]!;
    assert.deepEqual(bytes.args, ['abc', { $bytes: '616263' }]);
    assert.deepEqual(await leftoverKeys(redis, queue.name), []);
    await redis.del(resultsKey);
  });
});

describe('killed workers across languages', () => {
  it('our worker SIGKILLed mid-task: the Python sweeper requeues it, it completes once more', async () => {
    const queue = new Queue(redis, uniqueName('kill-node'));
    const resultsKey = uniqueName('results');
    const env = {
      REDIS_URL: server.url,
      QUEUE: queue.name,
      RESULTS_KEY: resultsKey,
      KEEP_ALIVE_TIMEOUT: '2000',
    };
    const first = await startWorkerApp(env);
    running.push(first);
    await queue.enqueue(new NodeTask('InteropHandlers:slow', [1_500, 'n1']));
    await eventually(async () => (await records(resultsKey)).some((r) => r.tag === 'n1'));
    first.child.kill('SIGKILL');
    await first.exited;

    const sweeper = python([
      'sweeper',
      '--redis',
      server.url,
      '--queue',
      queue.name,
      '--interval-ms',
      '300',
    ]);
    await sweeper.waitForLine(/"event":\s*"requeued"/, 15_000);
    sweeper.child.kill('SIGTERM');
    const second = await startWorkerApp(env);
    running.push(second);
    try {
      await eventually(
        async () => (await records(resultsKey)).some((r) => r.phase === 'done'),
        10_000,
        'n1 done',
      );
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
    assert.deepEqual(
      (await records(resultsKey)).map((r) => r.phase),
      ['start', 'start', 'done'],
    );
    assert.deepEqual(await leftoverKeys(redis, queue.name), []);
    await redis.del(resultsKey);
  });

  it('a Python worker SIGKILLed mid-task: our sweeper requeues it, it completes once more', async () => {
    const queue = new Queue(redis, uniqueName('kill-py'));
    const resultsKey = uniqueName('results');
    await queue.enqueue(new PyTask('interop_tasks:slow', [1_500, 'p1']));
    const workerArgs = [
      'worker',
      '--redis',
      server.url,
      '--queue',
      queue.name,
      '--results-key',
      resultsKey,
      '--keep-alive-timeout',
      '2',
      '--keep-alive-interval',
      '0.4',
      '--dequeue-timeout',
      '0.2',
    ];
    const first = python(workerArgs);
    await eventually(
      async () => (await records(resultsKey)).some((r) => r.tag === 'p1'),
      15_000,
      'p1 started',
    );
    first.child.kill('SIGKILL');
    await first.exited;
    assert.equal(await queue.processingCount(), 1);

    const sweeper = new Sweeper({ queues: [queue], interval: 100, logger: quietLogger });
    sweeper.start();
    await eventually(async () => (await queue.len()) === 1, 10_000, 'requeued by our sweeper');
    await sweeper.stop();
    const second = python(workerArgs);
    try {
      await eventually(
        async () => (await records(resultsKey)).some((r) => r.phase === 'done'),
        15_000,
        'p1 done',
      );
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
    assert.deepEqual(
      (await records(resultsKey)).map((r) => r.phase),
      ['start', 'start', 'done'],
    );
    assert.deepEqual(await leftoverKeys(redis, queue.name), []);
    await redis.del(resultsKey);
  });
});

describe('byte-exact with Python', () => {
  it('writes the same bytes as Python for the same PyTask and GoTask', async () => {
    const shapes = [
      { func: 'm:f', args: [], kwargs: {}, retry: 0 },
      { func: 'm:f', args: [1, 2], kwargs: {}, retry: 0 },
      { func: 'm:f', args: [], kwargs: { a: 1 }, retry: 0 },
      { func: 'm:f', args: [1], kwargs: { b: 2 }, retry: 3 },
      { func: 'm:f', args: [], kwargs: {}, retry: 2 },
      { func: 'm:f', args: ['x'], kwargs: {}, retry: -1 },
      { func: 'Svc:method', args: [{ $bytes: '00ff' }], kwargs: { k: { $float: 0.5 } }, retry: 1 },
    ];
    // Every value case that JavaScript can hold as it is (a JS number cannot be the float 1.0).
    const representable = valueCases.filter(
      (value) =>
        JSON.stringify(toTagged(fromTagged(value.args))) === JSON.stringify(value.args) &&
        JSON.stringify(toTagged(fromTagged(value.kwargs))) === JSON.stringify(value.kwargs),
    );
    assert.ok(representable.length >= 25, `only ${representable.length} representable cases`);
    const pyCases = [
      ...shapes,
      ...representable.map((value) => ({
        func: `values:${value.name}`,
        args: value.args,
        kwargs: value.kwargs,
        retry: 0,
      })),
    ];
    const goCases = [
      { go: true, func: 'main.One', args: [42] },
      {
        go: true,
        func: 'main.Several',
        args: [-5, 's', { $float: 1.5 }, { $bytes: '0001' }, true],
      },
      { go: true, func: 'main.WithStruct', args: [[7, 'seven']] },
      { go: true, func: 'main.Variadic', args: ['p', [1, 2, 3]] },
      ...representable
        .filter((v) => v.args.length > 0)
        .map((value) => ({ go: true, func: 'main.AnyList', args: [value.args] })),
    ];
    const lines = await pythonOnce([
      'enqueue-cases',
      '--redis',
      server.url,
      '--queue',
      'unused',
      '--cases',
      casesFile([...pyCases, ...goCases]),
      '--dry-run',
    ]);
    const peerHex = lines.map((line) => JSON.parse(line).hex as string);
    assert.equal(peerHex.length, pyCases.length + goCases.length);

    const ours = [
      ...pyCases.map(
        (c) =>
          new PyTask(
            c.func,
            fromTagged(c.args) as unknown[],
            fromTagged(c.kwargs) as Record<string, unknown>,
            c.retry,
          ),
      ),
      ...goCases.map((c) => new GoTask(c.func, fromTagged(c.args) as unknown[])),
    ];
    ours.forEach((task, i) => {
      assert.equal(
        encodeTask(task).toString('hex'),
        peerHex[i],
        `bytes of ${task.funcPath} (case ${i})`,
      );
    });
  });
});
