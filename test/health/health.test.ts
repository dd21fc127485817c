import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  Param,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Queue } from '../../lib/core/index.js';
import {
  DelayedHost,
  DelayedModule,
  DelayedQueue,
  InvalidOptionsError,
  NodeTask,
  Task,
} from '../../lib/index.js';
import {
  type DelayedHealthCheckOptions,
  DelayedHealthIndicator,
  DelayedHealthModule,
} from '../../lib/health/index.js';
import { eventually, startRedis, uniqueName, useRedisServer } from '../helpers/redis-server.js';

const db = useRedisServer();

@Injectable()
class Jobs {
  @Task({ name: 'health.ok' })
  ok() {}
}

const apps: INestApplication[] = [];
after(async () => {
  for (const app of apps) await app.close().catch(() => undefined);
});

/** Terminus' answer, as a health controller sends it. */
interface HealthBody {
  status: string;
  info?: Record<string, Record<string, unknown>>;
  error?: Record<string, Record<string, unknown>>;
  details: Record<string, { status: string; [key: string]: unknown }>;
}

/**
 * A real HTTP app with a terminus health controller: GET /health/<route> checks with the
 * options `routes` gives that route.
 */
async function healthApp(
  url: string,
  queue: string,
  routes: Record<string, DelayedHealthCheckOptions>,
): Promise<{ app: INestApplication; get: (route: string) => Promise<[number, HealthBody]> }> {
  @Controller('health')
  class HealthController {
    constructor(
      @Inject(HealthCheckService) private readonly health: HealthCheckService,
      @Inject(DelayedHealthIndicator) private readonly delayed: DelayedHealthIndicator,
    ) {}

    @Get(':route')
    @HealthCheck()
    check(@Param('route') route: string) {
      return this.health.check([() => this.delayed.isHealthy('delayed', routes[route])]);
    }
  }

  @Module({
    imports: [
      DelayedModule.forRoot({
        connection: url,
        queue,
        worker: { dequeueTimeout: 100, shutdownTimeout: 1_000 },
        redisTimeout: 1_000,
      }),
      TerminusModule,
      DelayedHealthModule,
    ],
    controllers: [HealthController],
    providers: [Jobs],
  })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    get: async (route) => {
      const response = await fetch(`${base}/health/${route}`, {
        signal: AbortSignal.timeout(15_000),
      });
      return [response.status, (await response.json()) as HealthBody];
    },
  };
}

describe('DelayedHealthIndicator', () => {
  it('is up when Redis answers, the worker runs and no threshold is passed', async () => {
    const queue = uniqueName('health');
    const { app, get } = await healthApp(db.server.url, queue, {
      plain: {},
      limits: { maxWaiting: 10, maxDead: 0, maxLateness: 60_000 },
    });
    await app.get(DelayedQueue).delay(Jobs, 'ok');
    await eventually(
      async () =>
        (await db.redis.llen(queue)) === 0 && (await db.redis.hlen(`${queue}_processing`)) === 0,
    );
    for (const route of ['plain', 'limits']) {
      const [status, body] = await get(route);
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.status, 'ok');
      assert.deepEqual(body.details.delayed, {
        status: 'up',
        redis: 'up',
        worker: { status: 'running', connected: true },
        queues: {
          [queue]: {
            waiting: 0,
            running: 0,
            scheduled: 0,
            dead: 0,
            schedules: 0,
            paused: false,
            lateness: 0,
          },
        },
      });
    }
  });

  it('is down (503) past maxWaiting, maxDead or maxLateness, naming each problem with its numbers', async () => {
    const queue = uniqueName('health');
    const idle = uniqueName('idle'); // no worker serves it
    const { app, get } = await healthApp(db.server.url, queue, {
      backlog: { maxWaiting: 2, queues: [idle] },
      dead: { maxDead: 0 },
      late: { maxLateness: 1_000, queues: [idle] },
      all: { maxWaiting: 2, maxDead: 0, maxLateness: 1_000, queues: [queue, idle] },
    });
    const idleQueue = new Queue(db.redis, idle);
    await idleQueue.enqueue(new NodeTask('health.ok', []));
    await idleQueue.enqueue(new NodeTask('health.ok', []));
    // Two waiting is not more than 2: still up.
    let [status, body] = await get('backlog');
    assert.equal(status, 200, JSON.stringify(body));
    await idleQueue.enqueue(new NodeTask('health.ok', []));
    [status, body] = await get('backlog');
    assert.equal(status, 503);
    assert.equal(body.status, 'error');
    assert.deepEqual(body.error!.delayed!.problems, [
      `queue "${idle}": 3 tasks waiting, more than maxWaiting (2)`,
    ]);
    assert.equal(
      (body.details.delayed.queues as Record<string, { waiting: number }>)[idle]!.waiting,
      3,
    );

    [status] = await get('dead');
    assert.equal(status, 200);
    // A task no handler has is a dead letter.
    await app.get(DelayedQueue).enqueue(new NodeTask('health.nobody', []));
    await eventually(async () => (await db.redis.llen(`${queue}_dead`)) === 1);
    [status, body] = await get('dead');
    assert.equal(status, 503);
    assert.deepEqual(body.error!.delayed!.problems, [
      `queue "${queue}": 1 dead letters, more than maxDead (0)`,
    ]);

    [status] = await get('late');
    assert.equal(status, 200);
    await idleQueue.schedule(new NodeTask('health.ok', []), { at: Date.now() - 5_000 });
    [status, body] = await get('late');
    assert.equal(status, 503);
    const problems = body.error!.delayed!.problems as string[];
    assert.equal(problems.length, 1);
    assert.match(
      problems[0]!,
      new RegExp(
        `^queue "${idle}": a scheduled task is \\d+ ms overdue, more than maxLateness \\(1000 ms\\)$`,
      ),
    );
    const lateness = (body.details.delayed.queues as Record<string, { lateness: number }>)[idle]!
      .lateness;
    assert.ok(lateness >= 5_000, `lateness ${lateness}`);

    [status, body] = await get('all');
    assert.equal(status, 503);
    assert.equal((body.error!.delayed!.problems as string[]).length, 3);
  });

  it('is down when the worker is not running', async () => {
    const { app, get } = await healthApp(db.server.url, uniqueName('health'), { plain: {} });
    assert.equal((await get('plain'))[0], 200);
    await app.get(DelayedHost).activeWorker!.stop();
    const [status, body] = await get('plain');
    assert.equal(status, 503);
    assert.deepEqual(body.error!.delayed!.problems, [
      'the worker is stopped, not running: it takes no tasks',
    ]);
    assert.deepEqual(body.error!.delayed!.worker, { status: 'stopped', connected: true });
  });

  it('is down within its timeout when Redis is stopped, and never throws', async () => {
    const redis = await startRedis({ private: true });
    try {
      const queue = uniqueName('health');
      const { app, get } = await healthApp(redis.url, queue, { quick: { timeout: 300 } });
      assert.equal((await get('quick'))[0], 200);
      await redis.stop();
      const began = Date.now();
      const [status, body] = await get('quick');
      const took = Date.now() - began;
      assert.equal(status, 503, JSON.stringify(body));
      const delayed = body.error!.delayed!;
      assert.equal(delayed.redis, 'down');
      assert.deepEqual(delayed.queues, {});
      const problems = delayed.problems as string[];
      assert.match(problems[0]!, /^Redis at 127\.0\.0\.1:\d+ did not answer a PING: /);
      // The 300 ms timeout bounds it; the margin only tells a bound from a hang.
      assert.ok(took < 5_000, `the check took ${took} ms`);
      // The worker notices it lost Redis too.
      await eventually(async () => {
        const [, later] = await get('quick');
        return (later.error?.delayed?.problems as string[] | undefined)?.includes(
          'the worker has lost its connection to Redis and is reconnecting',
        );
      });
      await app.close();
    } finally {
      await redis.stop();
    }
  });

  it('refuses options that cannot work', async () => {
    const { app } = await healthApp(db.server.url, uniqueName('health'), {});
    const indicator = app.get(DelayedHealthIndicator);
    await assert.rejects(
      indicator.isHealthy('delayed', { maxWaiting: -1, timeout: 0, queues: [] }),
      (error: unknown) =>
        error instanceof InvalidOptionsError &&
        /maxWaiting/.test(error.message) &&
        /timeout/.test(error.message) &&
        /queues/.test(error.message),
    );
    // Under another key, as the result's name.
    const result = await indicator.isHealthy('jobs');
    assert.equal(result.jobs.status, 'up');
  });
});
