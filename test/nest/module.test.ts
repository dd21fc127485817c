import 'reflect-metadata';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Injectable, Module, Scope } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import {
  currentTask,
  DELAYED_CONNECTION,
  DelayedHost,
  DelayedModule,
  type DelayedModuleOptions,
  DelayedQueue,
  InjectQueue,
  NodeTask,
  RedisUnavailableError,
  Sweeper,
  Task,
} from '../../lib/index.js';
import { waitForDrained } from '../../lib/testing/index.js';
import { startApp as app } from '../helpers/nest-app.js';
import { spawnProcess } from '../helpers/processes.js';
import {
  eventually,
  freePort,
  leftoverKeys,
  startRedis,
  useRedisServer,
  uniqueName,
} from '../helpers/redis-server.js';

const db = useRedisServer();

const calls: { name: string; args: unknown[] }[] = [];

@Injectable()
class Mailer {
  @Task()
  send(to: string, subject: string) {
    calls.push({ name: 'send', args: [to, subject] });
  }

  @Task({ name: 'mail.digest', retry: 2 })
  async digest(count: number, options?: { kwarg?: string }) {
    await sleep(1);
    calls.push({ name: 'digest', args: options === undefined ? [count] : [count, options] });
  }

  notATask() {}
}

/** A provider with handlers that also injects the queue and enqueues follow-up work. */
@Injectable()
class Pipeline {
  constructor(private readonly queue: DelayedQueue) {}

  @Task()
  async first(n: number) {
    calls.push({ name: 'first', args: [n] });
    await this.queue.delay(Pipeline, 'second', n + 1);
  }

  @Task()
  second(n: number) {
    calls.push({ name: 'second', args: [n] });
  }
}

/** Records what currentTask() tells a @Task() handler. */
@Injectable()
class Inspector {
  static readonly seen: { name: string; queue: string; retriesLeft: number }[] = [];

  @Task({ retry: 3 })
  async inspect() {
    await sleep(1);
    const { name, queue, retriesLeft } = currentTask()!;
    Inspector.seen.push({ name, queue, retriesLeft });
  }
}

function fastWorker(): DelayedModuleOptions['worker'] {
  return { dequeueTimeout: 100, shutdownTimeout: 2_000 };
}

describe('DelayedModule.forRoot', () => {
  it('discovers @Task() handlers on providers and runs delayed calls', async () => {
    calls.length = 0;
    const queue = uniqueName();
    const application = await app(
      [DelayedModule.forRoot({ connection: db.server.url, queue, worker: fastWorker() })],
      [Mailer, Pipeline],
    );
    try {
      const delayed = application.get(DelayedQueue);
      assert.equal(delayed.name, queue);
      await delayed.delay(Mailer, 'send', 'ada@example.com', 'hi');
      await delayed.delay(Mailer, 'digest', 3);
      await delayed.enqueue(new NodeTask('mail.digest', [4], { kwarg: 'x' }));
      await delayed.delay(Pipeline, 'first', 1);
      // Pipeline.first enqueues Pipeline.second: the queue drains once both have run.
      await waitForDrained(application, { timeout: 5_000 });
      assert.deepEqual(
        [...calls].sort(
          (a, b) =>
            a.name.localeCompare(b.name) ||
            JSON.stringify(a.args).localeCompare(JSON.stringify(b.args)),
        ),
        [
          { name: 'digest', args: [3] },
          { name: 'digest', args: [4, { kwarg: 'x' }] },
          { name: 'first', args: [1] },
          { name: 'second', args: [2] },
          { name: 'send', args: ['ada@example.com', 'hi'] },
        ],
      );
      const host = application.get(DelayedHost);
      assert.ok(host.activeWorker, 'a worker runs where handlers serve the queue');
    } finally {
      await application.close();
    }
    assert.deepEqual(await leftoverKeys(db.redis, queue), []);
  });

  it('lets a @Task() handler read its task with currentTask()', async () => {
    const queue = uniqueName();
    const application = await app(
      [DelayedModule.forRoot({ connection: db.server.url, queue, worker: fastWorker() })],
      [Inspector],
    );
    try {
      await application.get(DelayedQueue).delay(Inspector, 'inspect');
      await eventually(() => Inspector.seen.length === 1, 5_000, 'the handler ran');
      assert.deepEqual(Inspector.seen, [{ name: 'Inspector:inspect', queue, retriesLeft: 3 }]);
    } finally {
      await application.close();
    }
  });

  it('writes the task name and retry from @Task() metadata', async () => {
    const queue = uniqueName();
    const application = await app([
      DelayedModule.forRoot({ connection: db.server.url, queue, worker: false }),
    ]);
    try {
      await application.get(DelayedQueue).delay(Mailer, 'digest', 7);
      const [bytes] = await db.redis.lrangeBuffer(queue, 0, -1);
      // ["mail.digest", [7], {}, 2]
      assert.equal(bytes!.toString('hex'), '94ab6d61696c2e646967657374910780' + '02');
    } finally {
      await application.close();
    }
    await db.redis.del(queue, `${queue}_noti`);
  });

  it('lets a producer-only app delay tasks of classes it does not provide, without consuming', async () => {
    const queue = uniqueName();
    const application = await app([DelayedModule.forRoot({ connection: db.server.url, queue })]);
    try {
      await application.get(DelayedQueue).delay(Mailer, 'send', 'x@y.z', 'subject');
      await sleep(200);
      assert.equal(await db.redis.llen(queue), 1, 'nothing consumed the task');
      assert.equal(application.get(DelayedHost).activeWorker, undefined);
      await assert.rejects(
        application.get(DelayedQueue).delay(Mailer, 'notATask'),
        /Mailer\.notATask is not a task: decorate it with @Task\(\)/,
      );
    } finally {
      await application.close();
    }
    await db.redis.del(queue, `${queue}_noti`);
  });

  it('does not consume when worker is false, even with handlers', async () => {
    const queue = uniqueName();
    const application = await app(
      [DelayedModule.forRoot({ connection: db.server.url, queue, worker: false })],
      [Mailer],
    );
    try {
      await application.get(DelayedQueue).delay(Mailer, 'send', 'a', 'b');
      await sleep(200);
      assert.equal(await db.redis.llen(queue), 1);
    } finally {
      await application.close();
    }
    await db.redis.del(queue, `${queue}_noti`);
  });

  it('provides named queues and routes @Task({ queue }) handlers to them', async () => {
    const main = uniqueName('main');
    const emails = uniqueName('emails');
    const seen: string[] = [];

    @Injectable()
    class EmailHandlers {
      @Task({ queue: emails })
      welcome(user: string) {
        seen.push(`welcome ${user}`);
      }
    }

    @Injectable()
    class Signup {
      constructor(
        @InjectQueue(emails) readonly emailQueue: DelayedQueue,
        @InjectQueue() readonly mainQueue: DelayedQueue,
      ) {}
    }

    const application = await app(
      [
        DelayedModule.forRoot({
          connection: db.server.url,
          queue: main,
          worker: fastWorker(),
          queues: [emails],
        }),
      ],
      [EmailHandlers, Signup],
    );
    try {
      const signup = application.get(Signup);
      assert.equal(signup.emailQueue.name, emails);
      assert.equal(signup.mainQueue.name, main);
      // delay() on the main queue follows the handler's declared queue.
      await signup.mainQueue.delay(EmailHandlers, 'welcome', 'ada');
      await eventually(() => seen.length === 1);
      assert.deepEqual(seen, ['welcome ada']);
      assert.deepEqual(application.get(Sweeper).queueNames.sort(), [emails, main].sort());
    } finally {
      await application.close();
    }
  });

  it('fails at startup when two handlers claim one name, naming both', async () => {
    @Injectable()
    class A {
      @Task('same.name') run() {}
    }
    @Injectable()
    class B {
      @Task('same.name') go() {}
    }
    await assert.rejects(
      app(
        [DelayedModule.forRoot({ connection: db.server.url, queue: uniqueName(), worker: false })],
        [A, B],
      ),
      /Task name "same\.name" is claimed by both A\.run and B\.go/,
    );
  });

  it('rejects wrong options with a readable list', async () => {
    await assert.rejects(
      app([
        DelayedModule.forRoot({
          connection: db.server.url,
          worker: {
            concurrency: 0,
            keepAliveInterval: 5_000,
            keepAliveTimeout: 1_000,
            concurency: 3,
          } as never,
          deadLetter: { maxLength: -1 },
        }),
      ]),
      (error: Error) => {
        assert.match(error.message, /worker\.concurrency must be a positive integer, got 0/);
        assert.match(error.message, /unknown option worker\.concurency/);
        assert.match(
          error.message,
          /keepAliveInterval \(5000 ms\) must be shorter than worker\.keepAliveTimeout/,
        );
        assert.match(error.message, /deadLetter\.maxLength must be a positive integer/);
        return true;
      },
    );
  });

  it('is global by default, and only where imported with isGlobal: false', async () => {
    @Injectable()
    class NeedsQueue {
      constructor(readonly queue: DelayedQueue) {}
    }
    @Module({ providers: [NeedsQueue] })
    class FeatureModule {}

    const global = await app([
      DelayedModule.forRoot({ connection: db.server.url, worker: false }),
      FeatureModule,
    ]);
    assert.ok(global.get(NeedsQueue).queue instanceof DelayedQueue);
    await global.close();

    // The DI error comes at compile time, before any close: give it a client of our own.
    const client = new Redis(db.server.url);
    await assert.rejects(
      app([
        DelayedModule.forRoot({ connection: client, worker: false, isGlobal: false }),
        FeatureModule,
      ]),
      /DelayedQueue/,
    );
    client.disconnect();
  });

  it('refuses @Task() on a request-scoped provider, naming it', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequest {
      @Task() run() {}
    }
    await assert.rejects(
      app([DelayedModule.forRoot({ connection: db.server.url, worker: false })], [PerRequest]),
      /PerRequest\.run has @Task\(\) but PerRequest is request- or transient-scoped/,
    );
  });

  it('never closes a client you passed in', async () => {
    const client = new Redis(db.server.url);
    const application = await app(
      [DelayedModule.forRoot({ connection: client, queue: uniqueName(), worker: fastWorker() })],
      [Mailer],
    );
    await application.close();
    assert.equal(await client.ping(), 'PONG');
    client.disconnect();
  });
});

describe('DelayedModule.forRootAsync', () => {
  @Injectable()
  class Config {
    readonly url = () => db.server.url;
  }
  @Module({ providers: [Config], exports: [Config] })
  class ConfigModule {}

  @Injectable()
  class OptionsFactory {
    constructor(private readonly config: Config) {}
    createDelayedOptions(): DelayedModuleOptions {
      return { connection: this.config.url(), queue: asyncQueue, worker: fastWorker() };
    }
  }
  @Module({ imports: [ConfigModule], providers: [OptionsFactory], exports: [OptionsFactory] })
  class OptionsModule {}

  let asyncQueue = '';

  const forms = {
    useFactory: () =>
      DelayedModule.forRootAsync({
        imports: [ConfigModule],
        inject: [Config],
        useFactory: (config: Config) => ({
          connection: config.url(),
          queue: asyncQueue,
          worker: fastWorker(),
        }),
      }),
    useClass: () =>
      DelayedModule.forRootAsync({ imports: [ConfigModule], useClass: OptionsFactory }),
    useExisting: () =>
      DelayedModule.forRootAsync({ imports: [OptionsModule], useExisting: OptionsFactory }),
  };

  for (const [form, make] of Object.entries(forms)) {
    it(`works with ${form}`, async () => {
      calls.length = 0;
      asyncQueue = uniqueName(form);
      const application = await app([make()], [Mailer]);
      try {
        const delayed = application.get(DelayedQueue);
        assert.equal(delayed.name, asyncQueue);
        await delayed.delay(Mailer, 'send', form, 'async');
        await eventually(() => calls.length === 1);
        assert.deepEqual(calls[0], { name: 'send', args: [form, 'async'] });
      } finally {
        await application.close();
      }
    });
  }

  it('provides extra queues given beside the factory', async () => {
    const extra = uniqueName('extra');
    @Injectable()
    class UsesExtra {
      constructor(@InjectQueue(extra) readonly queue: DelayedQueue) {}
    }
    const application = await app(
      [
        DelayedModule.forRootAsync({
          useFactory: () => ({ connection: db.server.url, worker: false }),
          queues: [extra],
        }),
      ],
      [UsesExtra],
    );
    try {
      assert.equal(application.get(UsesExtra).queue.name, extra);
    } finally {
      await application.close();
    }
  });
});

describe('shutdown', () => {
  it('drains running tasks, and enqueueing still works during the drain', async () => {
    const queue = uniqueName();
    const events: string[] = [];

    @Injectable()
    class Drainer {
      constructor(private readonly delayed: DelayedQueue) {}

      @Task()
      async long(n: number) {
        events.push(`start ${n}`);
        await sleep(400);
        await this.delayed.delay(Drainer, 'followUp', n);
        events.push(`end ${n}`);
      }

      @Task()
      followUp(n: number) {
        events.push(`follow-up ${n}`);
      }
    }

    const application = await app(
      [
        DelayedModule.forRoot({
          connection: db.server.url,
          queue,
          worker: { concurrency: 2, dequeueTimeout: 100, shutdownTimeout: 5_000 },
        }),
      ],
      [Drainer],
    );
    const delayed = application.get(DelayedQueue);
    await delayed.delay(Drainer, 'long', 1);
    await eventually(() => events.includes('start 1'));
    await application.close();
    assert.deepEqual(events, ['start 1', 'end 1']);
    assert.equal(await db.redis.llen(queue), 1, 'the follow-up was enqueued during the drain');
    assert.equal(await db.redis.hlen(`${queue}_processing`), 0, 'the drained task was released');
    await db.redis.del(queue, `${queue}_noti`);
  });

  it('returns in bounded time when Redis is unreachable', async () => {
    const port = 1 + (await freePort());
    const application = await app([
      DelayedModule.forRoot({
        connection: { host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 1 },
        worker: false,
        sweeper: { interval: 50 },
      }),
    ]);
    await sleep(100);
    const started = Date.now();
    await application.close();
    assert.ok(Date.now() - started < 3_000, `close took ${Date.now() - started} ms`);
  });

  it('fails the bootstrap with a clear error when Redis is unreachable, and leaves nothing running', async () => {
    const port = 1 + (await freePort());
    const moduleRef = await Test.createTestingModule({
      imports: [
        DelayedModule.forRoot({
          connection: { host: '127.0.0.1', port, retryStrategy: () => 50 },
          queue: uniqueName(),
          redisTimeout: 1_000,
          worker: fastWorker(),
          sweeper: { interval: 50 },
        }),
      ],
      providers: [Mailer],
    }).compile();
    const application = moduleRef.createNestApplication({ logger: false });
    const started = Date.now();
    await assert.rejects(application.init(), (error: Error) => {
      assert.match(
        error.message,
        /^nestjs-delayed: the worker for "[^"]+" could not start, Redis at 127\.0\.0\.1:\d+: /,
      );
      return true;
    });
    assert.ok(Date.now() - started < 5_000, `bootstrap took ${Date.now() - started} ms to fail`);
    // Nest calls no shutdown hook after a failed bootstrap: our connection must stop trying,
    // or its reconnect attempts would keep the process alive.
    const { redis: connection } = moduleRef.get<{ redis: Redis }>(DELAYED_CONNECTION);
    let attempts = 0;
    connection.on('reconnecting', () => attempts++);
    await sleep(300);
    assert.equal(attempts, 0, 'the connection still tries to reconnect');
    assert.notEqual(connection.status, 'ready');
    assert.equal(moduleRef.get(Sweeper).isRunning, false);
  });

  it('lets a process whose bootstrap failed exit at once', async () => {
    const port = 1 + (await freePort());
    const fixture = fileURLToPath(new URL('../fixtures/failing-bootstrap.js', import.meta.url));
    const child = spawnProcess(process.execPath, [fixture], {
      REDIS_URL: `redis://127.0.0.1:${port}`,
    });
    const line = await child.waitForLine(/^failed after \d+ ms/, 10_000);
    const failedAt = Date.now();
    assert.match(
      line,
      /the worker for "default" could not start, Redis at 127\.0\.0\.1:\d+: unreachable \(connect ECONNREFUSED/,
    );
    assert.equal(await child.exited, 0);
    assert.ok(
      Date.now() - failedAt < 1_000,
      `the process lingered ${Date.now() - failedAt} ms after the failure`,
    );
  });

  it('returns in bounded time when Redis goes away under a running worker', async () => {
    // A server of its own, even under REDIS_URL: this test stops it.
    const own = await startRedis({ private: true });
    const application = await app(
      [
        DelayedModule.forRoot({
          connection: own.url,
          queue: uniqueName(),
          worker: { dequeueTimeout: 100, shutdownTimeout: 1_000 },
        }),
      ],
      [Mailer],
    );
    await own.stop();
    await sleep(200);
    const started = Date.now();
    await application.close();
    assert.ok(Date.now() - started < 6_000, `close took ${Date.now() - started} ms`);
  });
});

describe('API nodes and workers', () => {
  it('an app consumes only when its options turn the worker on; the sweeper goes with the worker', async () => {
    calls.length = 0;
    const queue = uniqueName();
    const api = await app([DelayedModule.forRoot({ connection: db.server.url, queue })], [Mailer]);
    try {
      await api.get(DelayedQueue).delay(Mailer, 'send', 'api@y.z', 'not here');
      await sleep(200);
      assert.equal(await db.redis.llen(queue), 1, 'an API node with handlers does not consume');
      assert.equal(api.get(DelayedHost).activeWorker, undefined);
      assert.equal(api.get(Sweeper).isRunning, false, 'nor sweep');
    } finally {
      await api.close();
    }
    const worker = await app(
      [DelayedModule.forRoot({ connection: db.server.url, queue, worker: true })],
      [Mailer],
    );
    try {
      await eventually(() => calls.length === 1, 5_000, 'the worker ran the task');
      assert.deepEqual(calls, [{ name: 'send', args: ['api@y.z', 'not here'] }]);
      assert.ok(worker.get(Sweeper).isRunning, 'a worker sweeps');
    } finally {
      await worker.close();
    }
    const swept = await app([
      DelayedModule.forRoot({ connection: db.server.url, queue, sweeper: true }),
    ]);
    try {
      assert.ok(swept.get(Sweeper).isRunning, 'sweeper: true sweeps without a worker');
    } finally {
      await swept.close();
    }
    assert.deepEqual(await leftoverKeys(db.redis, queue), []);
  });

  it('lets other modules inject DelayedHost', async () => {
    @Injectable()
    class Health {
      constructor(readonly host: DelayedHost) {}
    }
    @Module({ providers: [Health] })
    class HealthModule {}
    const application = await app(
      [
        DelayedModule.forRoot({
          connection: db.server.url,
          queue: uniqueName(),
          worker: fastWorker(),
        }),
        HealthModule,
      ],
      [Mailer],
    );
    try {
      assert.ok(application.get(Health).host.activeWorker);
    } finally {
      await application.close();
    }
  });
});

describe('options from config libraries and wrong places', () => {
  it('accepts numbers given as strings, as environment variables arrive', async () => {
    const application = await app(
      [
        DelayedModule.forRoot({
          connection: db.server.url,
          queue: uniqueName(),
          redisTimeout: '3000' as never,
          worker: {
            concurrency: '10' as never,
            shutdownTimeout: ' 2000 ' as never,
            dequeueTimeout: 100,
          },
        }),
      ],
      [Mailer],
    );
    try {
      assert.equal(application.get(DelayedHost).activeWorker?.slotIds.length, 10);
    } finally {
      await application.close();
    }
  });

  it('names the type of a wrong value, and says where queues and isGlobal go', async () => {
    await assert.rejects(
      app([
        DelayedModule.forRootAsync({
          useFactory: () =>
            ({
              connection: db.server.url,
              queues: ['reports'],
              isGlobal: false,
              redisTimeout: 'soon',
              worker: { concurrency: 'ten' },
              sweeper: 'yes',
            }) as never,
        }),
      ]),
      (error: Error) => {
        assert.match(
          error.message,
          /worker\.concurrency must be a positive integer, got the string "ten"/,
        );
        assert.match(
          error.message,
          /redisTimeout must be a positive number of milliseconds, got the string "soon"/,
        );
        assert.match(
          error.message,
          /queues goes beside the options, not inside them: forRoot\(\{ \.\.\., queues \}\) or forRootAsync\(\{ useFactory, queues \}\)/,
        );
        assert.match(error.message, /isGlobal goes beside the options/);
        assert.match(
          error.message,
          /sweeper must be true, false or an options object, got the string "yes"/,
        );
        assert.doesNotMatch(error.message, /unknown option queues/);
        return true;
      },
    );
  });

  it('rejects URLs that are not Redis URLs before connecting anywhere', async () => {
    for (const [connection, message] of [
      [
        'http://127.0.0.1:6379',
        /connection must be a redis:\/\/ or rediss:\/\/ URL or a socket path, got the http: URL "http:\/\/127\.0\.0\.1:6379"/,
      ],
      ['redis://127.0.0.1:6379/abc', /the path must be a database number, got "abc"/],
      ['localhost:6379', /connection must be a redis:\/\/ or rediss:\/\/ URL or a socket path/],
    ] as const) {
      await assert.rejects(app([DelayedModule.forRoot({ connection })]), message);
    }
  });
});

describe('a producer-only app with Redis down', () => {
  it('fails an enqueue within redisTimeout with RedisUnavailableError, and closes at once', async () => {
    const port = 1 + (await freePort());
    const application = await app([
      DelayedModule.forRoot({
        connection: `redis://127.0.0.1:${port}`,
        queue: uniqueName(),
        redisTimeout: 1_000,
      }),
    ]);
    let started = Date.now();
    await assert.rejects(
      application.get(DelayedQueue).delay(Mailer, 'send', 'a', 'b'),
      (error: Error) => {
        assert.ok(error instanceof RedisUnavailableError, String(error));
        assert.match(
          error.message,
          new RegExp(`^Redis at 127\\.0\\.0\\.1:${port}: unreachable \\(connect ECONNREFUSED`),
        );
        return true;
      },
    );
    const took = Date.now() - started;
    assert.ok(took >= 900 && took < 3_000, `the enqueue took ${took} ms to fail`);
    started = Date.now();
    await application.close();
    assert.ok(Date.now() - started < 1_000, `close took ${Date.now() - started} ms`);
  });
});

describe('DelayedQueue.with: later work', () => {
  it('schedules typed calls and tasks for later, routes them by @Task({ queue }), and cancels', async () => {
    calls.length = 0;
    const queue = uniqueName();
    const application = await app(
      [DelayedModule.forRoot({ connection: db.server.url, queue, worker: fastWorker() })],
      [Mailer],
    );
    try {
      const delayed = application.get(DelayedQueue);
      const later = delayed.with({ delay: 300 });
      const sent = await later.delay(Mailer, 'send', 'later@y.z', 'in 300 ms');
      const cancelled = await later.delay(Mailer, 'send', 'never@y.z', 'cancelled');
      const digest = await delayed
        .with({ at: new Date(Date.now() + 100) })
        .enqueue(new NodeTask('mail.digest', [3]));
      assert.equal(sent.queue, queue);
      assert.equal(await delayed.scheduledCount(), 3);
      assert.equal(await delayed.cancel(cancelled), true);
      await sleep(150);
      assert.deepEqual(
        calls.map((c) => c.name),
        ['digest'],
      );
      await eventually(() => calls.length === 2, 5_000, 'the scheduled send');
      assert.deepEqual(calls[1], { name: 'send', args: ['later@y.z', 'in 300 ms'] });
      assert.ok(Date.now() >= sent.dueAt && digest.dueAt < sent.dueAt);
      assert.equal(await delayed.cancel(sent), false, 'already run');
    } finally {
      await application.close();
    }
    assert.deepEqual(await leftoverKeys(db.redis, queue), []);
    assert.equal(await db.redis.exists(`${queue}_scheduled`), 0);
  });
});
