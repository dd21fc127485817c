import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import {
  HandlerRegistry,
  NodeTask,
  Queue,
  RedisUnavailableError,
  Scheduler,
  Sweeper,
  Worker,
} from '../../lib/core/index.js';
import { connectWhenUp, spawnRedis, stopProcess } from '../helpers/redis-process.js';
import { eventually, freePort, quietLogger, uniqueName } from '../helpers/redis-server.js';

async function waitForServer(port: number): Promise<void> {
  (await connectWhenUp(`redis://127.0.0.1:${port}`)).disconnect();
}

describe('Redis restarted under an idle worker', () => {
  it('runs every task enqueued after the restart at once: a reconnect costs no notification', async () => {
    const port = await freePort();
    let server = spawnRedis(port);
    await waitForServer(port);
    const producer = new Redis({ port, host: '127.0.0.1' });
    producer.on('error', () => undefined);
    const queue = new Queue(producer, uniqueName('restart'));
    const ran: number[] = [];
    const handlers = new HandlerRegistry();
    handlers.register('Restart:run', (n: number) => {
      ran.push(n);
    });
    const lines: string[] = [];
    const worker = new Worker({
      queues: [queue],
      handlers,
      concurrency: 3,
      dequeueTimeout: 1_000,
      logger: {
        log: (m) => lines.push(m),
        warn: (m) => lines.push(m),
        error: (m) => lines.push(m),
      },
    });
    await worker.start();
    try {
      await sleep(100);
      await stopProcess(server, 'SIGKILL');
      // Long enough for several reconnect attempts and fetch-loop rounds during the outage.
      await sleep(2_500);
      server = spawnRedis(port);
      await waitForServer(port);
      await eventually(
        () => worker.runningCount === 0 && lines.some((l) => l.startsWith('Reconnected')),
        10_000,
        'the reconnect',
      );
      for (let i = 0; i < 6; i++) await queue.enqueue(new NodeTask('Restart:run', [i]));
      // No sweeper runs: a task whose notification a stale pop took would wait for ever.
      await eventually(() => ran.length === 6, 5_000, `6 tasks run (got ${ran.length})`);
      assert.deepEqual([...ran].sort(), [0, 1, 2, 3, 4, 5]);
      assert.ok(
        lines.some((l) => l.startsWith('Lost the connection to Redis at 127.0.0.1:')),
        lines.join('\n'),
      );
      // The restarted server lost the liveness keys: the worker claimed them again.
      const check = new Redis({ port, host: '127.0.0.1' });
      const alive = await Promise.all(worker.slotIds.map((id) => check.exists(id)));
      check.disconnect();
      assert.ok(
        alive.every((n) => n === 1),
        'every slot id is alive again',
      );
    } finally {
      await worker.close();
      producer.disconnect();
      await stopProcess(server);
    }
  });
});

describe('Redis unreachable or silent', () => {
  it('fails a worker start within redisTimeout, naming the address and the cause', async () => {
    const port = await freePort();
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
    client.on('error', () => undefined);
    const worker = new Worker({
      queues: [new Queue(client, uniqueName())],
      handlers: new HandlerRegistry(),
      redisTimeout: 800,
      logger: quietLogger,
    });
    const started = Date.now();
    await assert.rejects(worker.start(), (error: Error) => {
      assert.ok(error instanceof RedisUnavailableError, String(error));
      assert.match(
        error.message,
        new RegExp(
          `^Redis at 127\\.0\\.0\\.1:${port}: unreachable \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\); gave up after 800 ms$`,
        ),
      );
      return true;
    });
    const took = Date.now() - started;
    assert.ok(took >= 700 && took < 2_500, `start took ${took} ms to fail`);
    client.disconnect();
  });

  it('fails a worker start and an enqueue against a server that accepts but never answers', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const client = new Redis({ port, host: '127.0.0.1' });
    client.on('error', () => undefined);
    const queue = new Queue(client, uniqueName(), { redisTimeout: 500 });
    const worker = new Worker({
      queues: [queue],
      handlers: new HandlerRegistry(),
      redisTimeout: 500,
      logger: quietLogger,
    });
    try {
      let started = Date.now();
      await assert.rejects(worker.start(), /: unreachable \(no answer\); gave up after 500 ms/);
      assert.ok(Date.now() - started < 2_000);
      started = Date.now();
      await assert.rejects(queue.enqueue(new NodeTask('X:y')), (error: Error) => {
        assert.ok(error instanceof RedisUnavailableError);
        assert.match(error.message, /^Redis at 127\.0\.0\.1:\d+: unreachable/);
        return true;
      });
      assert.ok(Date.now() - started < 2_000);
      const sweeper = new Sweeper({ queues: [queue], logger: quietLogger });
      started = Date.now();
      await assert.rejects(sweeper.sweep(), RedisUnavailableError);
      assert.ok(Date.now() - started < 2_000);
    } finally {
      client.disconnect();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('rejects a database the server does not have instead of using database 0', async () => {
    const port = await freePort();
    const server = spawnRedis(port);
    await waitForServer(port);
    const { openConnection } = await import('../../lib/core/redis/connection.js');
    const { redis } = openConnection(`redis://127.0.0.1:${port}/99`);
    redis.on('error', () => undefined);
    try {
      const queue = new Queue(redis, uniqueName(), { redisTimeout: 2_000 });
      await assert.rejects(
        queue.enqueue(new NodeTask('X:y')),
        /refused the connection: ERR DB index is out of range/,
      );
      const check = new Redis({ port, host: '127.0.0.1' });
      assert.equal(await check.dbsize(), 0, 'nothing written to database 0');
      check.disconnect();
    } finally {
      redis.disconnect();
      await stopProcess(server);
    }
  });

  it('stops a sweeper in bounded time while its sweep waits for Redis', async () => {
    const port = await freePort();
    const client = new Redis({ port, host: '127.0.0.1' });
    client.on('error', () => undefined);
    const sweeper = new Sweeper({
      queues: [new Queue(client, uniqueName(), { redisTimeout: 60_000 })],
      interval: 50,
      logger: quietLogger,
    });
    sweeper.start();
    await sleep(200);
    const started = Date.now();
    await sweeper.stop();
    assert.ok(Date.now() - started < 3_000, `stop took ${Date.now() - started} ms`);
    client.disconnect();
  });
});

describe('Redis restarted (AOF) while tasks are scheduled', () => {
  it('loses none, runs none early, and moves the due ones at once after the restart; a periodic schedule catches up', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'aof-'));
    const aof = ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always'];
    let server = spawnRedis(port, [], aof);
    await waitForServer(port);
    const producer = new Redis({ port, host: '127.0.0.1' });
    producer.on('error', () => undefined);
    const queue = new Queue(producer, uniqueName('aof'));
    const ran = new Map<number, number>();
    const handlers = new HandlerRegistry();
    handlers.register('Aof:run', (n: number) => {
      ran.set(n, Date.now());
    });
    const ticks: number[] = [];
    handlers.register('Aof:tick', (tickAt: number) => void ticks.push(tickAt));
    const scheduler = new Scheduler({ queues: [queue], logger: quietLogger });
    const worker = new Worker({
      queues: [queue],
      handlers,
      concurrency: 5,
      dequeueTimeout: 200,
      logger: quietLogger,
    });
    await worker.start();
    try {
      await queue.schedules.set('aof-beat', { every: 200 }, new NodeTask('Aof:tick'), {
        tickArg: true,
        neverSkip: true,
      });
      scheduler.start();
      const early = await queue.scheduleMany(
        Array.from({ length: 10 }, (_, n) => new NodeTask('Aof:run', [n])),
        { delay: 800 },
      );
      const late = await queue.scheduleMany(
        Array.from({ length: 10 }, (_, n) => new NodeTask('Aof:run', [10 + n])),
        { delay: 2_500 },
      );
      await sleep(300);
      await stopProcess(server, 'SIGKILL');
      // Down while the first ten come due: no promoter can move them until Redis is back.
      await sleep(1_000);
      server = spawnRedis(port, [], aof);
      await waitForServer(port);
      const back = Date.now();
      await eventually(() => ran.size === 20, 10_000, `all 20 scheduled tasks (got ${ran.size})`);
      for (let n = 0; n < 10; n++) {
        assert.ok(ran.get(n)! >= early[n]!.dueAt - 1, `task ${n} not early`);
        assert.ok(ran.get(n)! - back < 1_500, `task ${n} moved soon after the restart`);
      }
      for (let n = 10; n < 20; n++) {
        assert.ok(ran.get(n)! >= late[n - 10]!.dueAt - 1, `task ${n} not early`);
        assert.ok(ran.get(n)! - late[n - 10]!.dueAt < 1_500, `task ${n} on time`);
      }
      await sleep(200);
      assert.equal(ran.size, 20);
      // The schedule went on after the restart, each tick once, the outage's ones caught up.
      await eventually(
        () => ticks.some((tick) => tick > back + 400),
        5_000,
        'ticks after the restart',
      );
      const sorted = [...ticks].sort((a, b) => a - b);
      assert.equal(new Set(sorted).size, sorted.length, 'no tick twice');
      for (let i = 1; i < sorted.length; i++) assert.equal(sorted[i]! - sorted[i - 1]!, 200);
    } finally {
      await scheduler.stop();
      await worker.close();
      producer.disconnect();
      await stopProcess(server);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
