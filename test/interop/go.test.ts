/**
 * Interop with the real Go peer (go-delayed), through test/interop/go/bin/goharness built by
 * `test/interop/setup.sh go`. Run with `npm run test:interop:go`; it fails loudly when the
 * peer is not installed. (The Go module proxy currently refuses go-delayed, see
 * docs/protocol.md, so CI runs the Python half only.)
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { encodeTask, GoTask, Queue } from '../../lib/core/index.js';
import { fromTagged } from '../fixtures/tagged-json.js';
import { type Spawned, spawnProcess, startWorkerApp } from '../helpers/processes.js';
import {
  eventually,
  leftoverKeys,
  startRedis,
  type TestRedis,
  uniqueName,
} from '../helpers/redis-server.js';

const GO_HARNESS = fileURLToPath(
  new URL('../../../test/interop/go/bin/goharness', import.meta.url),
);
const VALUES = fileURLToPath(new URL('../../../test/interop/values.json', import.meta.url));
const valueCases: { name: string; args: unknown[]; kwargs: Record<string, unknown> }[] = JSON.parse(
  readFileSync(VALUES, 'utf8'),
);

let server: TestRedis;
let redis: Redis;
const running: Spawned[] = [];

before(async () => {
  if (!existsSync(GO_HARNESS)) {
    throw new Error(
      `The Go peer is not installed (${GO_HARNESS} is missing): run test/interop/setup.sh go`,
    );
  }
  server = await startRedis();
  redis = server.client();
});
after(async () => {
  for (const process of running) process.child.kill('SIGKILL');
  await server?.stop();
});

function go(args: string[]): Spawned {
  const spawned = spawnProcess(GO_HARNESS, args, {});
  running.push(spawned);
  return spawned;
}

async function goOnce(args: string[]): Promise<string[]> {
  const spawned = go(args);
  assert.equal(await spawned.exited, 0, `goharness ${args[0]} failed:\n${spawned.output()}`);
  return spawned.output().trim().split('\n').filter(Boolean);
}

/** One JSON record a peer's handler wrote; its fields depend on the handler. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- records are free-form JSON read field by field
type PeerRecord = Record<string, any>;

async function records(key: string): Promise<PeerRecord[]> {
  return (await redis.lrange(key, 0, -1)).map((line) => JSON.parse(line));
}

const redisAddress = () => `127.0.0.1:${server.port}`;

describe('nestjs-delayed -> go-delayed', () => {
  it('enqueues GoTasks the Go worker runs with the right values', async () => {
    const queue = new Queue(redis, uniqueName('node2go'));
    const resultsKey = uniqueName('results');
    const tasks: [GoTask, string, unknown[]][] = [
      [new GoTask('main.One', [42]), 'One', [42]],
      [
        new GoTask('main.Several', [-5, 's', 1.5, Buffer.from([0, 1]), true]),
        'Several',
        [-5, 's', 1.5, new Uint8Array([0, 1]), true],
      ],
      // A struct travels as the array of its fields; the Go handler records the struct it got.
      [new GoTask('main.WithStruct', [[7, 'seven']]), 'WithStruct', [{ X: 7, Y: 'seven' }]],
      [new GoTask('main.WithPointer', [3, [1, 'one']]), 'WithPointer', [3, { X: 1, Y: 'one' }]],
      [new GoTask('main.Variadic', ['p', [1, 2, 3]]), 'Variadic', ['p', [1, 2, 3]]],
      [new GoTask('main.OnlyVariadic', [4, 5, 6]), 'OnlyVariadic', [[4, 5, 6]]],
      [new GoTask('main.Uint', [2n ** 64n - 1n]), 'Uint', [2n ** 64n - 1n]],
    ];
    await queue.enqueueMany(tasks.map(([task]) => task));
    const worker = go([
      'worker',
      '-redis',
      redisAddress(),
      '-queue',
      queue.name,
      '-results-key',
      resultsKey,
      '-dequeue-timeout',
      '200ms',
    ]);
    try {
      await worker.waitForLine(/"event":\s*"ready"/);
      await eventually(
        async () => (await redis.llen(resultsKey)) === tasks.length,
        15_000,
        'every Go call recorded',
      );
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    const got = await records(resultsKey);
    tasks.forEach(([, func, expected], i) => {
      assert.equal(got[i]!.func, func);
      assert.deepEqual(fromTagged(got[i]!.args), expected, `values of ${func}`);
    });
  });

  it('writes the same bytes as go-delayed for the same GoTask', async () => {
    const cases = [
      { go: true, func: 'main.NoArgs' },
      { go: true, func: 'main.One', args: [42] },
      {
        go: true,
        func: 'main.Several',
        args: [-5, 's', { $float: 1.5 }, { $bytes: '0001' }, true],
      },
      { go: true, func: 'main.WithStruct', args: [[7, 'seven']] },
      { go: true, func: 'main.Variadic', args: ['p', [1, 2, 3]] },
    ];
    const file = join(mkdtempSync(join(tmpdir(), 'interop-go-')), 'cases.json');
    writeFileSync(file, JSON.stringify(cases));
    const lines = await goOnce([
      'enqueue-cases',
      '-redis',
      redisAddress(),
      '-queue',
      'unused',
      '-cases',
      file,
      '-dry-run',
    ]);
    const peerHex = lines.map((line) => JSON.parse(line).hex as string);
    cases.forEach((c, i) => {
      const ours = encodeTask(new GoTask(c.func, fromTagged(c.args ?? []) as unknown[]));
      assert.equal(ours.toString('hex'), peerHex[i], `bytes of ${c.func}`);
    });
  });
});

describe('go-delayed -> nestjs-delayed', () => {
  it('runs PyTask-shaped tasks Go enqueues with NewPyTask on our Nest worker', async () => {
    const queue = uniqueName('go2node');
    const resultsKey = uniqueName('results');
    const sent = valueCases.filter(
      (value) => value.args.length > 0 || Object.keys(value.kwargs).length > 0,
    );
    for (const value of sent) {
      await goOnce([
        'enqueue-py',
        '-redis',
        redisAddress(),
        '-queue',
        queue,
        '-func',
        'InteropHandlers:record',
        '-args-json',
        JSON.stringify(value.args),
        '-kwargs-json',
        JSON.stringify(value.kwargs),
      ]);
    }
    const worker = await startWorkerApp({
      REDIS_URL: server.url,
      QUEUE: queue,
      RESULTS_KEY: resultsKey,
    });
    running.push(worker);
    try {
      await eventually(
        async () => (await redis.llen(resultsKey)) === sent.length,
        15_000,
        'every case recorded',
      );
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    const got = await records(resultsKey);
    sent.forEach((value, i) => {
      const args = fromTagged(value.args) as unknown[];
      const expected =
        Object.keys(value.kwargs).length > 0 ? [...args, fromTagged(value.kwargs)] : args;
      assert.deepEqual(fromTagged(got[i]!.args), expected, `case ${value.name}`);
    });
    assert.deepEqual(await leftoverKeys(redis, queue), []);
  });
});
