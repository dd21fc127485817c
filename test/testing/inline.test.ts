import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Injectable, Module, Scope } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import {
  currentTask,
  DELAYED_CONNECTION,
  DelayedModule,
  DelayedQueue,
  DuplicateHandlerError,
  Every,
  GoTask,
  InjectQueue,
  InvalidHandlerError,
  InvalidOptionsError,
  NodeTask,
  PyTask,
  RateLimitedError,
  ScheduledCalls,
  DelayedSchedules,
  Task,
  TaskCancelledError,
  TaskFailedError,
  TaskHandle,
  TaskNotFoundError,
  TaskTimeoutError,
  UnrecoverableError,
  DeadLetters,
  type TaskContext,
} from '../../lib/index.js';
import {
  DelayedTestingModule,
  type DelayedTestingOptions,
  DrainTimeoutError,
  InlineTasks,
  overrideDelayedModule,
  waitForDrained,
} from '../../lib/testing/index.js';
import { InlineDelayedQueue } from '../../lib/testing/inline-delayed-queue.js';

// No Redis server is started for this file: everything here must work without one.

/** Counts the ioredis connections opened while this file runs. */
let connects = 0;
const realConnect = Redis.prototype.connect;
before(() => {
  Redis.prototype.connect = function (this: Redis, ...args: Parameters<Redis['connect']>) {
    connects++;
    return realConnect.apply(this, args);
  };
});
after(() => {
  Redis.prototype.connect = realConnect;
  assert.equal(connects, 0, 'no Redis connection was opened by the inline mode');
});

type Seen = Pick<TaskContext, 'queue' | 'name' | 'id' | 'retriesLeft'> & {
  args: unknown[];
  aborted: boolean;
};

@Injectable()
class Mailer {
  static seen: Seen[] = [];
  static flakyRuns: number[] = [];

  @Task()
  async send(to: string, options: { subject: string; tags: string[] }) {
    const task = currentTask()!;
    options.tags.push('touched by the handler');
    Mailer.seen.push({
      queue: task.queue,
      name: task.name,
      id: task.id,
      retriesLeft: task.retriesLeft,
      args: [to, options],
      aborted: task.signal.aborted,
    });
  }

  @Task({ retry: 2, backoff: 60_000 })
  flaky(n: number): void {
    Mailer.flakyRuns.push(currentTask()!.retriesLeft);
    throw new RangeError(`flaky ${n}`);
  }

  @Task({ retry: 5 })
  hopeless(): void {
    Mailer.flakyRuns.push(currentTask()!.retriesLeft);
    throw new UnrecoverableError('bad address');
  }

  @Task({ result: { stack: true } })
  async render(id: number): Promise<{ id: number; html: string; at: Date }> {
    await currentTask()!.progress({ done: 1, total: 2 });
    return { id, html: `<p>${id}</p>`, at: new Date(0) };
  }

  @Task({ result: { stack: true } })
  broken(): string {
    throw new TypeError('no template');
  }

  @Task()
  unstorable(): () => void {
    return () => undefined;
  }
}

@Injectable()
class Slow {
  static started = 0;

  @Task({ timeout: 50 })
  async stuck(): Promise<void> {
    Slow.started++;
    const { signal } = currentTask()!;
    await new Promise((resolve) => signal.addEventListener('abort', resolve));
  }

  @Task()
  async forever(): Promise<void> {
    Slow.started++;
    const { signal } = currentTask()!;
    await new Promise((resolve) => signal.addEventListener('abort', resolve));
    throw signal.reason;
  }

  @Task()
  limited(): void {
    Slow.started++;
    throw new RateLimitedError(5_000);
  }
}

/** A producer, as app code writes it: it knows DelayedQueue only. */
@Injectable()
class Signup {
  constructor(
    private readonly queue: DelayedQueue,
    @InjectQueue('emails') private readonly emails: DelayedQueue,
  ) {}

  async register(email: string): Promise<string> {
    await this.queue.delay(Mailer, 'send', email, { subject: 'welcome', tags: ['new'] });
    return 'registered';
  }

  async digest(email: string): Promise<void> {
    await this.emails.delay(Digests, 'weekly', email);
  }
}

@Injectable()
class Digests {
  static seen: { email: string; queue: string }[] = [];

  @Task({ queue: 'emails' })
  weekly(email: string): void {
    Digests.seen.push({ email, queue: currentTask()!.queue });
  }
}

/** A pipeline: a handler that enqueues follow-up work. */
@Injectable()
class Pipeline {
  static order: string[] = [];
  constructor(private readonly queue: DelayedQueue) {}

  @Task()
  async first(n: number) {
    Pipeline.order.push(`first ${n}`);
    await this.queue.delay(Pipeline, 'second', n + 1);
  }

  @Task()
  second(n: number) {
    Pipeline.order.push(`second ${n}`);
  }
}

@Injectable()
class Cleaner {
  static ticks: number[] = [];

  @Every(3_600_000, { name: 'hourly-clean' })
  clean(tick: number) {
    Cleaner.ticks.push(tick);
  }
}

class NotAProvider {
  @Task()
  elsewhere(n: number) {
    return n;
  }

  plain() {}
}

async function inlineApp(
  providers: unknown[],
  options: DelayedTestingOptions = {},
): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [DelayedTestingModule.forRoot({ queues: ['emails'], ...options })],
    providers: providers as never[],
  }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return moduleRef;
}

async function using<T>(
  providers: unknown[],
  run: (moduleRef: TestingModule, tasks: InlineTasks) => Promise<T>,
  options: DelayedTestingOptions = {},
): Promise<T> {
  const moduleRef = await inlineApp(providers, options);
  try {
    return await run(moduleRef, moduleRef.get(InlineTasks));
  } finally {
    await moduleRef.close();
  }
}

describe('DelayedTestingModule', () => {
  it('runs a delayed call in this process, after its caller goes on, with currentTask() and decoded arguments', async () => {
    Mailer.seen = [];
    await using([Mailer, Signup, Digests], async (moduleRef, tasks) => {
      assert.ok(moduleRef.get(DelayedQueue) instanceof DelayedQueue, 'app code keeps its type');
      const options = { subject: 'welcome', tags: ['new'] };
      await moduleRef.get(DelayedQueue).delay(Mailer, 'send', 'ada@example.com', options);
      assert.deepEqual(Mailer.seen, [], 'a real producer returns before the handler runs');
      assert.equal(tasks.waiting.length, 1);
      await tasks.drain();
      assert.deepEqual(Mailer.seen, [
        {
          queue: 'default',
          name: 'Mailer:send',
          id: undefined,
          retriesLeft: 0,
          args: [
            'ada@example.com',
            { subject: 'welcome', tags: ['new', 'touched by the handler'] },
          ],
          aborted: false,
        },
      ]);
      assert.deepEqual(options.tags, ['new'], "the handler got a copy, not the caller's object");
      assert.equal(await moduleRef.get(Signup).register('bob@example.com'), 'registered');
      await tasks.drain();
      const sent = tasks.of(Mailer, 'send');
      assert.deepEqual(
        sent.map((task) => [task.args[0], task.state, task.attempts, task.queue]),
        [
          ['ada@example.com', 'done', 1, 'default'],
          ['bob@example.com', 'done', 1, 'default'],
        ],
      );
      assert.deepEqual(tasks.failed, []);
    });
  });

  it('routes @Task({ queue }) and @InjectQueue(name) queues as the real module does', async () => {
    Digests.seen = [];
    await using([Mailer, Signup, Digests], async (moduleRef, tasks) => {
      await moduleRef.get(Signup).digest('ada@example.com');
      await moduleRef.get(DelayedQueue).delay(Digests, 'weekly', 'bob@example.com');
      await tasks.drain();
      assert.deepEqual(Digests.seen, [
        { email: 'ada@example.com', queue: 'emails' },
        { email: 'bob@example.com', queue: 'emails' },
      ]);
      assert.equal(moduleRef.get<DelayedQueue>('nestjs-delayed:queue:emails').name, 'emails');
    });
  });

  it('call() returns a TaskHandle whose result(), status() and the handler see one id', async () => {
    await using([Mailer], async (moduleRef, tasks) => {
      const queue = moduleRef.get(DelayedQueue);
      const handle = await queue.call(Mailer, 'render', 7);
      assert.ok(handle instanceof TaskHandle);
      assert.match(handle.id, /^[0-9a-f]{32}$/);
      assert.equal(handle.queue, 'default');
      assert.deepEqual(await handle.status(), { state: 'waiting', attempts: 0 });
      const page = await handle.result({ timeout: 1_000 });
      // Typed as the method's result, and carried through MessagePack as a worker sends it.
      assert.deepEqual(page, { id: 7, html: '<p>7</p>', at: new Date(0) });
      assert.deepEqual(await handle.status(), {
        state: 'done',
        progress: { done: 1, total: 2 },
        attempts: 1,
      });
      assert.equal(tasks.completed[0]!.id, handle.id);
      assert.deepEqual(await queue.task(handle.id).result(), page, 'task(id) finds it');
      assert.deepEqual(await queue.task('0'.repeat(32)).status(), {
        state: 'unknown',
        attempts: 0,
      });
      await assert.rejects(queue.task('0'.repeat(32)).result(), TaskNotFoundError);
      assert.throws(() => queue.task('nope'), InvalidOptionsError);

      const broken = await queue.call(Mailer, 'broken');
      await assert.rejects(broken.result(), (error: unknown) => {
        assert.ok(error instanceof TaskFailedError);
        assert.equal(error.message, 'no template');
        assert.equal(error.errorName, 'TypeError');
        assert.equal(error.state, 'dead');
        assert.match(error.remoteStack ?? '', /no template/);
        return true;
      });
      const unstorable = await queue.call(Mailer, 'unstorable');
      await assert.rejects(unstorable.result(), (error: unknown) => {
        assert.ok(error instanceof TaskFailedError);
        assert.equal(error.errorName, 'TaskResultError');
        return true;
      });
    });
  });

  it('retries a failing handler as @Task({ retry }) says, then reports it failed and dead-lettered', async () => {
    Mailer.flakyRuns = [];
    await using([Mailer], async (moduleRef, tasks) => {
      const queue = moduleRef.get(DelayedQueue);
      // A producer never sees a handler's error.
      await queue.delay(Mailer, 'flaky', 1);
      await tasks.drain();
      assert.deepEqual(Mailer.flakyRuns, [2, 1, 0], 'three attempts, the backoff wait skipped');
      const [flaky] = tasks.failed;
      assert.equal(flaky!.state, 'dead');
      assert.equal(flaky!.attempts, 3);
      assert.equal(flaky!.errors.length, 3);
      assert.ok(flaky!.error instanceof RangeError);
      assert.equal((flaky!.error as Error).message, 'flaky 1');
      assert.equal(await queue.deadLetters.count(), 1);
      const [letter] = await queue.deadLetters.list();
      assert.equal(letter!.funcPath, 'Mailer:flaky');
      assert.equal(letter!.reason, 'failed');

      Mailer.flakyRuns = [];
      await queue.delay(Mailer, 'hopeless');
      await tasks.drain();
      assert.deepEqual(Mailer.flakyRuns, [5], 'an UnrecoverableError is not retried');
      assert.equal(await queue.deadLetters.count(), 2);

      Mailer.flakyRuns = [];
      assert.equal(await queue.deadLetters.requeue([letter!]), 1);
      await tasks.drain();
      assert.deepEqual(
        Mailer.flakyRuns,
        [0],
        'a requeued dead letter runs again, its budget spent',
      );
      assert.equal(await queue.deadLetters.purge(), 2);
    });
  });

  it('drops a task that fails for good when dead letters are off', async () => {
    Mailer.flakyRuns = [];
    await using(
      [Mailer],
      async (moduleRef, tasks) => {
        const queue = moduleRef.get(DelayedQueue);
        await queue.delay(Mailer, 'flaky', 2);
        await tasks.drain();
        assert.deepEqual(
          tasks.failed.map((task) => task.state),
          ['failed'],
        );
        assert.equal(await queue.deadLetters.count(), 0);
      },
      { deadLetter: false },
    );
  });

  it('refuses what the real module refuses: an undecorated method, arguments MessagePack cannot carry, bad options', async () => {
    await using([Mailer], async (moduleRef, tasks) => {
      const queue = moduleRef.get(DelayedQueue);
      await assert.rejects(
        queue.delay(NotAProvider, 'plain' as never),
        (error: unknown) =>
          error instanceof TypeError &&
          error.message === 'NotAProvider.plain is not a task: decorate it with @Task()',
      );
      await assert.rejects(
        queue.delay(Mailer, 'send', 'x', { subject: 's', tags: [], fn: () => 1 } as never),
      );
      await assert.rejects(
        queue.with({}).delay(Mailer, 'send', 'x', { subject: 's', tags: [] }),
        InvalidOptionsError,
      );
      await assert.rejects(
        queue.with({ delay: 1, at: 2 }).delay(Mailer, 'send', 'x', { subject: 's', tags: [] }),
        /give delay or at, not both/,
      );
      await assert.rejects(
        queue
          .with({ delay: 1, result: { ttl: 5 } })
          .delay(Mailer, 'send', 'x', { subject: 's', tags: [] }),
        /apply to tracked calls/,
      );
      await assert.rejects(
        queue.with({ unique: { key: '', ttl: 0 } }).call(Mailer, 'render', 1),
        /Invalid call options/,
      );
      assert.deepEqual(tasks.all, [], 'nothing refused was recorded');
    });
  });

  it('records a handler that is not a provider here, and tasks for Python and Go workers, without running them', async () => {
    await using([Mailer], async (moduleRef, tasks) => {
      const queue = moduleRef.get(DelayedQueue);
      await queue.delay(NotAProvider, 'elsewhere', 1);
      await queue.enqueue(new PyTask('billing.tasks:charge', [42], { currency: 'EUR' }, 3));
      await queue.enqueueMany([
        new GoTask('main.Send', ['x']),
        new NodeTask('Mailer:send', ['y', { subject: 's', tags: [] }]),
      ]);
      await tasks.drain();
      assert.deepEqual(
        tasks.unhandled.map((task) => [task.name, task.args, task.kwargs]),
        [
          ['NotAProvider:elsewhere', [1], {}],
          ['billing.tasks:charge', [42], { currency: 'EUR' }],
          ['main.Send', ['x'], {}],
        ],
      );
      assert.equal(await queue.len(), 3, 'they wait in the queue for a worker that has them');
      assert.deepEqual(
        tasks.completed.map((task) => task.name),
        ['Mailer:send'],
      );
    });
  });

  it('holds scheduled calls until the test releases them, earliest first; cancel() takes them back', async () => {
    Pipeline.order = [];
    await using([Pipeline], async (moduleRef, tasks) => {
      const queue = moduleRef.get(DelayedQueue);
      const late = await queue.with({ delay: 60_000 }).delay(Pipeline, 'second', 3);
      const soon = await queue.with({ delay: 1_000 }).delay(Pipeline, 'second', 2);
      const cancelled = await queue
        .with({ at: new Date(Date.now() + 5_000) })
        .delay(Pipeline, 'second', 99);
      const tracked = await queue.with({ delay: 30_000 }).call(Pipeline, 'second', 4);
      assert.ok(tracked.dueAt! > Date.now());
      assert.equal(await queue.scheduledCount(), 4);
      assert.equal(await queue.cancel(cancelled), true);
      assert.equal(await queue.cancel(cancelled), false);
      await assert.rejects(queue.cancel('bad'), InvalidOptionsError);
      await tasks.drain();
      assert.deepEqual(Pipeline.order, [], 'no clock releases a scheduled task');
      assert.deepEqual(await tracked.status(), { state: 'scheduled', attempts: 0 });

      const released = tasks.releaseScheduled(Date.now() + 10_000);
      assert.deepEqual(
        released.map((task) => task.args),
        [[2]],
      );
      assert.equal(await queue.cancel(soon), false, 'released: due already');
      await tasks.drain();
      assert.deepEqual(Pipeline.order, ['second 2']);
      tasks.releaseScheduled();
      await tasks.drain();
      assert.deepEqual(Pipeline.order, ['second 2', 'second 4', 'second 3']);
      assert.equal(
        await tracked.result(),
        null,
        "a void handler's result travels as nil, as from a worker",
      );
      assert.equal(late.queue, 'default');
      assert.equal(await queue.scheduledCount(), 0);
    });
  });

  it('in manual mode runs nothing until the test drains or steps, follow-up tasks included', async () => {
    Pipeline.order = [];
    await using(
      [Pipeline],
      async (moduleRef, tasks) => {
        const queue = moduleRef.get(DelayedQueue);
        await queue.delay(Pipeline, 'first', 1);
        await queue.delay(Pipeline, 'first', 10);
        await new Promise((resolve) => setTimeout(resolve, 20));
        assert.deepEqual(Pipeline.order, []);
        assert.equal(await queue.len(), 2);
        const first = await tasks.runNext();
        assert.equal(first!.state, 'done');
        assert.deepEqual(Pipeline.order, ['first 1']);
        assert.deepEqual(
          tasks.waiting.map((task) => task.args),
          [[10], [2]],
        );
        await tasks.drain();
        assert.deepEqual(Pipeline.order, ['first 1', 'first 10', 'second 2', 'second 11']);
        assert.equal(await tasks.runNext(), undefined);
      },
      { runMode: 'manual' },
    );
  });

  it('aborts an attempt at its @Task({ timeout }), and a drain that runs out of time names what is left', async () => {
    Slow.started = 0;
    await using([Slow], async (moduleRef, tasks) => {
      const queue = moduleRef.get(DelayedQueue);
      await queue.delay(Slow, 'stuck');
      await tasks.drain();
      const [stuck] = tasks.failed;
      assert.ok(stuck!.error instanceof TaskTimeoutError, String(stuck!.error));

      await queue.delay(Slow, 'forever');
      await assert.rejects(tasks.drain({ timeout: 100 }), (error: unknown) => {
        assert.ok(error instanceof DrainTimeoutError);
        assert.match(
          error.message,
          /Not drained after 100 ms: queue "default": 1 running, 0 waiting \(Slow:forever\)/,
        );
        assert.deepEqual(error.left, [
          { queue: 'default', waiting: 0, processing: 1, scheduled: 0 },
        ]);
        return true;
      });
      // Closing the app aborts the running task's signal, as a worker's shutdown does.
    });
    assert.equal(Slow.started, 2);
  });

  it('holds a paused queue until it is resumed, as workers do', async () => {
    Pipeline.order = [];
    await using([Pipeline], async (moduleRef, tasks) => {
      const queue = moduleRef.get(DelayedQueue);
      assert.equal(await queue.pause(), true);
      assert.equal(await queue.pause(), false);
      await queue.delay(Pipeline, 'first', 1);
      await tasks.drain();
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(
        Pipeline.order,
        [],
        'nothing of a paused queue runs, and drain() does not wait for it',
      );
      assert.equal(await queue.isPaused(), true);
      assert.equal(await tasks.runNext(), undefined);
      assert.equal(await queue.resume(), true);
      await tasks.drain();
      assert.deepEqual(Pipeline.order, ['first 1', 'second 2']);
      assert.equal(await queue.resume(), false);
    });
  });

  it('schedules a rate-limited attempt again without spending a retry', async () => {
    Slow.started = 0;
    await using([Slow], async (moduleRef, tasks) => {
      await moduleRef.get(DelayedQueue).delay(Slow, 'limited');
      await tasks.drain();
      const [limited] = tasks.scheduled;
      assert.equal(limited!.retriesLeft, 0);
      assert.ok(limited!.dueAt! >= Date.now() + 4_000);
      tasks.releaseScheduled();
      await tasks.drain();
      assert.equal(Slow.started, 2);
    });
  });

  it("gives a unique call the holder's handle while the holder lives", async () => {
    await using(
      [Mailer],
      async (moduleRef, tasks) => {
        const queue = moduleRef.get(DelayedQueue);
        const unique = { key: 'render:1', ttl: 60_000 };
        const first = await queue.with({ unique }).call(Mailer, 'render', 1);
        const second = await queue.with({ unique }).call(Mailer, 'render', 1);
        assert.equal(first.created, true);
        assert.equal(second.created, false);
        assert.equal(second.id, first.id);
        assert.equal(await second.cancel(), true);
        await assert.rejects(first.result(), TaskCancelledError);
        const third = await queue.with({ unique }).call(Mailer, 'render', 1);
        assert.equal(third.created, true, 'the key is free once its holder ended');
        await tasks.drain();
        assert.equal(await third.cancel(), false, 'it ran');
      },
      { runMode: 'manual' },
    );
  });

  it('fires a declared @Every schedule on demand, and keeps schedules set at run time', async () => {
    Cleaner.ticks = [];
    await using([Cleaner], async (moduleRef, tasks) => {
      const queue = moduleRef.get(DelayedQueue);
      const [declared] = await queue.schedules.list();
      assert.equal(declared!.name, 'hourly-clean');
      assert.equal(declared!.declared, true);
      const next = declared!.nextTick!;
      assert.equal(next % 3_600_000, 0);
      tasks.fireSchedule('hourly-clean');
      tasks.fireSchedule('hourly-clean', { at: 7 });
      await tasks.drain();
      assert.deepEqual(Cleaner.ticks, [next, 7]);
      assert.equal((await queue.schedules.get('hourly-clean'))!.nextTick, 3_600_000);

      assert.equal(
        await queue.schedules.set('again', { every: 60_000 }, Cleaner, 'clean', 1),
        'created',
      );
      assert.equal(
        await queue.schedules.set('again', { every: 60_000 }, Cleaner, 'clean', 1),
        'unchanged',
      );
      assert.equal(
        await queue.schedules.setTask('py', { cron: '0 5 * * 2' }, new PyTask('r.weekly')),
        'created',
      );
      assert.equal(await queue.schedules.remove('py'), true);
      assert.throws(() => tasks.fireSchedule('missing'), /no queue has a schedule named "missing"/);
    });
  });

  it('finds handlers as the real module does: duplicates and request-scoped handlers fail the start', async () => {
    @Injectable()
    class Twin {
      @Task('Mailer:send')
      send() {}
    }
    await assert.rejects(inlineApp([Mailer, Twin]), DuplicateHandlerError);

    @Injectable({ scope: Scope.REQUEST })
    class Scoped {
      @Task()
      run() {}
    }
    await assert.rejects(inlineApp([Scoped]), InvalidHandlerError);
  });

  it('refuses to drain before the app is initialised, naming the fix', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [DelayedTestingModule.forRoot()],
      providers: [Mailer],
    }).compile();
    try {
      await moduleRef.get(DelayedQueue).delay(Mailer, 'hopeless');
      await assert.rejects(moduleRef.get(InlineTasks).drain(), /moduleRef\.init\(\)/);
    } finally {
      await moduleRef.close();
    }
  });

  it('opens no Redis connection and provides none', async () => {
    await using([Mailer], async (moduleRef) => {
      assert.throws(() => moduleRef.get(DELAYED_CONNECTION));
      // waitForDrained works on an inline app too: it drains in process.
      await moduleRef.get(DelayedQueue).delay(Mailer, 'render', 1);
      await waitForDrained(moduleRef, { timeout: 1_000 });
      assert.equal(moduleRef.get(InlineTasks).completed.length, 1);
    });
    assert.equal(connects, 0);
  });

  it('forgets everything on clear(), so a module can be shared by several tests', async () => {
    await using(
      [Mailer],
      async (moduleRef, tasks) => {
        const queue = moduleRef.get(DelayedQueue);
        const handle = await queue.call(Mailer, 'render', 1);
        const waiting = handle.result();
        tasks.clear();
        await assert.rejects(waiting, TaskNotFoundError);
        assert.deepEqual(tasks.all, []);
        assert.equal(await queue.len(), 0);
      },
      { runMode: 'manual' },
    );
  });

  it('checks its options', () => {
    assert.throws(
      () =>
        DelayedTestingModule.forRoot({ runMode: 'later' as never, queue: '', extra: 1 } as never),
      (error: unknown) =>
        error instanceof InvalidOptionsError &&
        /runMode must be 'immediate' or 'manual'/.test(error.message) &&
        /queue must be a non-empty string/.test(error.message) &&
        /unknown option extra/.test(error.message),
    );
  });
});

describe('overrideDelayedModule', () => {
  @Injectable()
  class Orders {
    static seen: string[] = [];
    @Task()
    place(id: string) {
      Orders.seen.push(`${id} on ${currentTask()!.queue}`);
    }
  }

  // The real module would connect to this address (nothing listens there) and run a worker.
  const delayed = DelayedModule.forRoot({
    connection: 'redis://127.0.0.1:1',
    queue: 'orders',
    worker: true,
    queues: ['audit'],
  });

  @Module({ providers: [Orders] })
  class OrdersModule {}

  @Module({ imports: [delayed, OrdersModule] })
  class AppModule {}

  it('swaps the DelayedModule an app imports for the testing module, keeping its queues', async () => {
    Orders.seen = [];
    const moduleRef = await overrideDelayedModule(
      Test.createTestingModule({ imports: [AppModule] }),
      AppModule,
    ).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    try {
      const queue = moduleRef.get(DelayedQueue);
      assert.ok(queue instanceof InlineDelayedQueue);
      assert.equal(queue.name, 'orders');
      assert.equal(moduleRef.get<DelayedQueue>('nestjs-delayed:queue:audit').name, 'audit');
      await queue.delay(Orders, 'place', 'o-1');
      await moduleRef.get(InlineTasks).drain();
      assert.deepEqual(Orders.seen, ['o-1 on orders']);
    } finally {
      await moduleRef.close();
    }
    assert.equal(connects, 0);
  });

  it('says so when the app imports no DelayedModule', () => {
    @Module({})
    class Bare {}
    assert.throws(
      () => overrideDelayedModule(Test.createTestingModule({ imports: [Bare] }), Bare),
      /Bare does not import DelayedModule/,
    );
  });
});

describe('the inline classes', () => {
  // App code calls these classes; the inline ones must answer every public member in memory.
  // A member added to a real class and not to its inline twin would reach for Redis.
  for (const [real, inline, privates] of [
    [DelayedQueue, 'InlineDelayedQueue', ['callWith', 'callOf', 'route']],
    [ScheduledCalls, 'InlineScheduledCalls', ['plainTime']],
    [DelayedSchedules, 'InlineDelayedSchedules', []],
    [TaskHandle, 'InlineTaskHandle', ['recordKey']],
    [DeadLetters, 'InlineDeadLetters', []],
  ] as const) {
    it(`${inline} overrides every public member of ${real.name}`, async () => {
      const module = (await import(
        inline === 'InlineTaskHandle'
          ? '../../lib/testing/inline-task-handle.js'
          : inline === 'InlineDeadLetters'
            ? '../../lib/testing/inline-dead-letters.js'
            : '../../lib/testing/inline-delayed-queue.js'
      )) as Record<string, { prototype: object }>;
      const own = new Set(Object.getOwnPropertyNames(module[inline]!.prototype));
      const missing = Object.getOwnPropertyNames(real.prototype).filter(
        (name) =>
          name !== 'constructor' &&
          !(privates as readonly string[]).includes(name) &&
          !own.has(name),
      );
      assert.deepEqual(missing, []);
    });
  }
});
