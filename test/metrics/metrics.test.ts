import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { Counter, register as globalRegister, Registry } from 'prom-client';
import { Queue, QueueInspector } from '../../lib/core/index.js';
import {
  DelayedHost,
  DelayedModule,
  DelayedQueue,
  InvalidOptionsError,
  NodeTask,
  Task,
} from '../../lib/index.js';
import {
  DelayedMetricsModule,
  type DelayedMetricsOptions,
  UNREADABLE_TASK,
  UNREGISTERED_TASK,
} from '../../lib/metrics/index.js';
import {
  type MetricFamily,
  parsePrometheusText,
  promtoolCheck,
  sampleValue,
} from '../helpers/prometheus-text.js';
import { eventually, startRedis, uniqueName, useRedisServer } from '../helpers/redis-server.js';

const db = useRedisServer();

@Injectable()
class Jobs {
  static flakyCalls = 0;

  @Task({ name: 'metrics.ok' })
  ok() {}

  /** Runs 40 ms or more, so its durations never fall in the 25 ms bucket. */
  @Task({ name: 'metrics.slow' })
  async slow() {
    await sleep(40);
  }

  /** Fails twice, then succeeds on its third attempt. */
  @Task({ name: 'metrics.flaky', retry: 2 })
  flaky() {
    Jobs.flakyCalls++;
    if (Jobs.flakyCalls <= 2) throw new Error('not yet');
  }

  /** Fails on both its attempts, then is a dead letter. */
  @Task({ name: 'metrics.doomed', retry: 1 })
  doomed() {
    throw new Error('never');
  }
}

const apps: INestApplication[] = [];
after(async () => {
  for (const app of apps) await app.close().catch(() => undefined);
});

/** A real HTTP app: Nest on Express, listening on a free loopback port. */
async function httpApp(
  url: string | Redis,
  queue: string,
  metrics: DelayedMetricsOptions,
  path: string | null = '/metrics',
): Promise<{ app: INestApplication; base: string }> {
  @Module({
    imports: [
      DelayedModule.forRoot({
        connection: url,
        queue,
        worker: { concurrency: 4, dequeueTimeout: 100, shutdownTimeout: 2_000 },
        redisTimeout: 1_000,
      }),
      DelayedMetricsModule.forRoot({ ...metrics, ...(path === null ? {} : { path }) }),
    ],
    providers: [Jobs],
  })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  return { app, base: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

async function scrape(base: string): Promise<{ text: string; contentType: string }> {
  const response = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(15_000) });
  assert.equal(response.status, 200, await response.clone().text());
  return { text: await response.text(), contentType: response.headers.get('content-type') ?? '' };
}

/** A bucket's bound: a number, or +Inf. */
function leOf(le: string): number {
  return le === '+Inf' ? Infinity : Number(le);
}

function value(families: Map<string, MetricFamily>, name: string, labels: Record<string, string>) {
  return sampleValue(families, name, labels);
}

describe('DelayedMetricsModule', () => {
  it('serves task counters, durations and queue gauges that a real parser and promtool accept', async () => {
    Jobs.flakyCalls = 0;
    const queue = uniqueName('metrics');
    const late = uniqueName('late');
    const registry = new Registry();
    const { app, base } = await httpApp(db.server.url, queue, {
      registry,
      queues: [late],
      cacheTime: 0,
    });
    const delayed = app.get(DelayedQueue);
    const engine = new Queue(db.redis, queue);
    const lateQueue = new Queue(db.redis, late);

    for (let i = 0; i < 3; i++) await delayed.delay(Jobs, 'ok');
    for (let i = 0; i < 2; i++) await delayed.delay(Jobs, 'slow');
    await delayed.delay(Jobs, 'flaky');
    await delayed.delay(Jobs, 'doomed');
    // Names no handler here has come off the wire: they share one label.
    await delayed.enqueue(new NodeTask('metrics.nobody', []));
    await delayed.enqueue(new NodeTask('metrics.nobody.either', []));
    // Bytes that are no task at all.
    await engine.enqueue(Buffer.from('not a task'));
    // Nobody serves `late`: its tasks wait, and its overdue scheduled task stays overdue.
    await lateQueue.enqueue(new NodeTask('metrics.ok', []));
    await lateQueue.enqueue(new NodeTask('metrics.ok', []));
    const dueAt = Date.now() - 5_000;
    await lateQueue.schedule(new NodeTask('metrics.ok', []), { at: dueAt });

    const parsed = (await eventually(
      async () => {
        const families = parsePrometheusText((await scrape(base)).text);
        const total = (name: string) =>
          families.get(name)?.samples.reduce((sum, sample) => sum + sample.value, 0) ?? 0;
        return total('delayed_tasks_completed_total') === 6 &&
          total('delayed_tasks_dead_lettered_total') === 4
          ? families
          : undefined;
      },
      15_000,
      'every task to end',
    ))!;
    // Settled: the last releases are written, so Redis holds still while we compare.
    await eventually(
      async () =>
        (await db.redis.hlen(`${queue}_processing`)) === 0 && (await db.redis.llen(queue)) === 0,
    );
    const before = Date.now();
    const { text, contentType } = await scrape(base);
    const afterScrape = Date.now();
    assert.equal(contentType, registry.contentType);

    // promtool, Prometheus' own checker, reports nothing: no format error, no lint warning.
    const checked = promtoolCheck(text);
    assert.equal(checked.status, 0, `promtool check metrics:\n${checked.output}\n---\n${text}`);
    assert.equal(checked.output, '', `promtool check metrics:\n${checked.output}`);

    const families = parsePrometheusText(text);
    // A second scrape hands prom-client nothing twice: the counters read the same.
    assert.deepEqual(
      families.get('delayed_tasks_started_total')!.samples,
      parsed.get('delayed_tasks_started_total')!.samples,
    );

    const types: Record<string, string> = {
      delayed_tasks_started_total: 'counter',
      delayed_tasks_completed_total: 'counter',
      delayed_tasks_failed_total: 'counter',
      delayed_tasks_retried_total: 'counter',
      delayed_tasks_dead_lettered_total: 'counter',
      delayed_tasks_interrupted_total: 'counter',
      delayed_task_duration_seconds: 'histogram',
      delayed_queue_waiting_tasks: 'gauge',
      delayed_queue_running_tasks: 'gauge',
      delayed_queue_scheduled_tasks: 'gauge',
      delayed_queue_dead_letters: 'gauge',
      delayed_queue_schedules: 'gauge',
      delayed_queue_paused: 'gauge',
      delayed_queue_scheduled_lateness_seconds: 'gauge',
      delayed_redis_up: 'gauge',
      delayed_worker_up: 'gauge',
    };
    assert.deepEqual(
      Object.fromEntries([...families.values()].map((family) => [family.name, family.type])),
      types,
    );
    for (const family of families.values()) assert.ok(family.help, `${family.name} has HELP`);

    // Exact counts per (queue, task).
    const expected: Record<string, Record<string, number>> = {
      started: { 'metrics.ok': 3, 'metrics.slow': 2, 'metrics.flaky': 3, 'metrics.doomed': 2 },
      completed: { 'metrics.ok': 3, 'metrics.slow': 2, 'metrics.flaky': 1, 'metrics.doomed': 0 },
      retried: { 'metrics.ok': 0, 'metrics.slow': 0, 'metrics.flaky': 2, 'metrics.doomed': 1 },
      failed: { 'metrics.doomed': 1, [UNREGISTERED_TASK]: 2, [UNREADABLE_TASK]: 1 },
      dead_lettered: { 'metrics.doomed': 1, [UNREGISTERED_TASK]: 2, [UNREADABLE_TASK]: 1 },
      interrupted: { 'metrics.ok': 0, 'metrics.doomed': 0, [UNREGISTERED_TASK]: 0 },
    };
    for (const [kind, byTask] of Object.entries(expected)) {
      for (const [task, count] of Object.entries(byTask)) {
        assert.equal(
          value(families, `delayed_tasks_${kind}_total`, { queue, task }),
          count,
          `${kind} of ${task}`,
        );
      }
    }
    // Labels are bounded: handler names, and the two fixed values, nothing off the wire.
    const tasks = new Set(
      families.get('delayed_tasks_failed_total')!.samples.map((sample) => sample.labels.task),
    );
    assert.deepEqual(
      [...tasks].sort(),
      [
        UNREADABLE_TASK,
        UNREGISTERED_TASK,
        'metrics.doomed',
        'metrics.flaky',
        'metrics.ok',
        'metrics.slow',
      ].sort(),
    );
    assert.ok(!text.includes('metrics.nobody'), 'an unregistered name is never a label');

    // Durations: one histogram series per (task, outcome) that ran, each consistent.
    const durations: Record<string, number> = {
      'metrics.ok/completed': 3,
      'metrics.slow/completed': 2,
      'metrics.flaky/completed': 1,
      'metrics.flaky/retried': 2,
      'metrics.doomed/retried': 1,
      'metrics.doomed/dead_lettered': 1,
    };
    const histogram = families.get('delayed_task_duration_seconds')!;
    const seriesSeen = new Set(
      histogram.samples
        .filter((sample) => sample.name === 'delayed_task_duration_seconds_count')
        .map((sample) => `${sample.labels.task}/${sample.labels.outcome}`),
    );
    assert.deepEqual([...seriesSeen].sort(), Object.keys(durations).sort());
    for (const [key, count] of Object.entries(durations)) {
      const [task, outcome] = key.split('/') as [string, string];
      const labels = { queue, task, outcome };
      assert.equal(value(families, 'delayed_task_duration_seconds_count', labels), count, key);
      const buckets = histogram.samples
        .filter(
          (sample) =>
            sample.name === 'delayed_task_duration_seconds_bucket' &&
            sample.labels.task === task &&
            sample.labels.outcome === outcome,
        )
        .map((sample) => ({ le: leOf(sample.labels.le!), value: sample.value }))
        .sort((a, b) => a.le - b.le);
      assert.equal(buckets.at(-1)!.le, Infinity);
      assert.equal(buckets.at(-1)!.value, count, `${key}: +Inf bucket = count`);
      for (let i = 1; i < buckets.length; i++) {
        assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, `${key}: buckets are cumulative`);
      }
      const sum = value(families, 'delayed_task_duration_seconds_sum', labels)!;
      assert.ok(sum >= 0 && Number.isFinite(sum), `${key}: sum ${sum}`);
      // Every observation is at most its bucket's bound: the sum is at most the bounds' sum.
      let bound = 0;
      for (let i = 0; i < buckets.length - 1; i++) {
        bound += (buckets[i]!.value - (i > 0 ? buckets[i - 1]!.value : 0)) * buckets[i]!.le;
      }
      const aboveLast = count - buckets.at(-2)!.value;
      if (aboveLast === 0) assert.ok(sum <= bound + 1e-9, `${key}: sum ${sum} <= ${bound}`);
    }
    const slow = { queue, task: 'metrics.slow', outcome: 'completed' };
    assert.equal(
      value(families, 'delayed_task_duration_seconds_bucket', { ...slow, le: '0.025' }),
      0,
    );
    // Two runs of a 40 ms sleep (a timer may fire a little under its ms on a busy loop).
    assert.ok(value(families, 'delayed_task_duration_seconds_sum', slow)! >= 0.07);
    // Unreadable and unregistered tasks never ran: no duration.
    assert.ok(!histogram.samples.some((sample) => sample.labels.task === UNREGISTERED_TASK));

    // Gauges match Redis.
    const inspect = async (name: string) => new QueueInspector(new Queue(db.redis, name)).counts();
    for (const name of [queue, late]) {
      const counts = await inspect(name);
      assert.equal(value(families, 'delayed_queue_waiting_tasks', { queue: name }), counts.waiting);
      assert.equal(value(families, 'delayed_queue_running_tasks', { queue: name }), counts.running);
      assert.equal(
        value(families, 'delayed_queue_scheduled_tasks', { queue: name }),
        counts.scheduled,
      );
      assert.equal(value(families, 'delayed_queue_dead_letters', { queue: name }), counts.dead);
      assert.equal(value(families, 'delayed_queue_schedules', { queue: name }), counts.schedules);
      assert.equal(value(families, 'delayed_queue_paused', { queue: name }), 0);
    }
    assert.equal(await db.redis.llen(late), 2);
    assert.equal(value(families, 'delayed_queue_waiting_tasks', { queue: late }), 2);
    assert.equal(await db.redis.llen(`${queue}_dead`), 4);
    assert.equal(value(families, 'delayed_queue_dead_letters', { queue }), 4);
    assert.equal(value(families, 'delayed_queue_scheduled_tasks', { queue: late }), 1);
    assert.equal(value(families, 'delayed_queue_scheduled_lateness_seconds', { queue }), 0);
    // Read between `before` and `afterScrape` (Redis runs on this machine's clock).
    const lateness = value(families, 'delayed_queue_scheduled_lateness_seconds', { queue: late })!;
    assert.ok(
      lateness >= (before - dueAt) / 1000 - 0.001 &&
        lateness <= (afterScrape - dueAt) / 1000 + 0.001,
      `lateness ${lateness} s for a task due ${before - dueAt} ms before the scrape`,
    );
    assert.equal(value(families, 'delayed_redis_up', {}), 1);
    assert.equal(value(families, 'delayed_worker_up', {}), 1);
    // Only the app's queues are reported (the module's, the worker's, `queues`).
    assert.deepEqual(
      families
        .get('delayed_queue_waiting_tasks')!
        .samples.map((sample) => sample.labels.queue)
        .sort(),
      [queue, late].sort(),
    );
    // A paused queue reads 1.
    await db.redis.set(`${late}_paused`, '1');
    const paused = parsePrometheusText((await scrape(base)).text);
    assert.equal(value(paused, 'delayed_queue_paused', { queue: late }), 1);
  });

  it('reports redis_up 0 and no queue gauges when Redis is down, in time, without failing the scrape', async () => {
    const redis = await startRedis({ private: true });
    const queue = uniqueName('down');
    try {
      const registry = new Registry();
      const { app, base } = await httpApp(redis.url, queue, { registry, timeout: 300 });
      await app.get(DelayedQueue).delay(Jobs, 'ok');
      let families = (await eventually(async () => {
        const parsed = parsePrometheusText((await scrape(base)).text);
        const done = value(parsed, 'delayed_tasks_completed_total', { queue, task: 'metrics.ok' });
        return done === 1 ? parsed : undefined;
      }))!;
      assert.equal(value(families, 'delayed_redis_up', {}), 1);
      assert.equal(value(families, 'delayed_worker_up', {}), 1);
      assert.ok(families.get('delayed_queue_waiting_tasks')!.samples.length > 0);
      const started = value(families, 'delayed_tasks_started_total', { queue, task: 'metrics.ok' });
      assert.equal(started, 1);

      await redis.stop();
      await sleep(1_100); // past the 1 s cache
      const began = Date.now();
      families = parsePrometheusText((await scrape(base)).text);
      const took = Date.now() - began;
      assert.equal(value(families, 'delayed_redis_up', {}), 0);
      assert.equal(families.get('delayed_queue_waiting_tasks')!.samples.length, 0);
      // What the process counted itself is still there.
      assert.equal(
        value(families, 'delayed_tasks_started_total', { queue, task: 'metrics.ok' }),
        started,
      );
      // Bounded by the 300 ms timeout; the generous margin only tells a bound from a hang.
      assert.ok(took < 5_000, `the scrape took ${took} ms`);
      await eventually(
        async () =>
          value(parsePrometheusText((await scrape(base)).text), 'delayed_worker_up', {}) === 0,
        10_000,
        'worker_up 0',
      );
      assert.equal(promtoolCheck((await scrape(base)).text).status, 0);
      await app.close();
    } finally {
      await redis.stop();
    }
  });

  it("uses prom-client's global register by default and leaves it as it found it on close", async () => {
    const queue = uniqueName('global');
    const { app } = await httpApp(db.server.url, queue, {}, null);
    assert.ok(globalRegister.getSingleMetric('delayed_tasks_started_total'));
    assert.ok(globalRegister.getSingleMetric('delayed_task_duration_seconds'));
    // No route was asked for: none is served.
    const response = await fetch(`${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/metrics`);
    assert.equal(response.status, 404);
    const text = await globalRegister.metrics();
    assert.equal(promtoolCheck(text).status, 0);
    await app.close();
    assert.equal(globalRegister.getSingleMetric('delayed_tasks_started_total'), undefined);
    assert.equal(globalRegister.getSingleMetric('delayed_task_duration_seconds'), undefined);
  });

  it('takes a prefix, buckets and the route path', async () => {
    const queue = uniqueName('prefix');
    const registry = new Registry();
    const { app } = await httpApp(
      db.server.url,
      queue,
      { registry, prefix: 'jobs_', buckets: [0.1, 1] },
      '/internal/prom',
    );
    await app.get(DelayedQueue).delay(Jobs, 'ok');
    const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const families = (await eventually(async () => {
      const response = await fetch(`${base}/internal/prom`);
      assert.equal(response.status, 200);
      const parsed = parsePrometheusText(await response.text());
      return value(parsed, 'jobs_tasks_completed_total', { queue, task: 'metrics.ok' }) === 1
        ? parsed
        : undefined;
    }))!;
    assert.ok([...families.keys()].every((name) => name.startsWith('jobs_')));
    const les = families
      .get('jobs_task_duration_seconds')!
      .samples.filter((sample) => sample.name.endsWith('_bucket'))
      .map((sample) => sample.labels.le);
    assert.deepEqual(les, ['0.1', '1', '+Inf']);
    await app.close();
  });

  it('refuses options that cannot work, naming each problem', async () => {
    await assert.rejects(
      httpApp(db.server.url, uniqueName(), {
        registry: new Registry(),
        prefix: '9bad',
        buckets: [1, 0.5],
        cacheTime: -1,
      }),
      (error: unknown) =>
        error instanceof InvalidOptionsError &&
        /prefix/.test(error.message) &&
        /buckets/.test(error.message) &&
        /cacheTime/.test(error.message),
    );
  });

  it('takes options from forRootAsync, with path beside them, and checks them there too', async () => {
    const registry = new Registry();
    const queue = uniqueName('async');
    @Module({
      imports: [
        DelayedModule.forRoot({ connection: db.server.url, queue }),
        DelayedMetricsModule.forRootAsync({
          useFactory: () => ({ registry, prefix: 'async_' }),
          path: '/async-metrics',
        }),
      ],
    })
    class AsyncApp {}
    const app = await NestFactory.create(AsyncApp, { logger: false, abortOnError: false });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const response = await fetch(`${base}/async-metrics`);
    assert.equal(response.status, 200);
    const families = parsePrometheusText(await response.text());
    assert.equal(value(families, 'async_queue_waiting_tasks', { queue }), 0);
    // No worker here: no worker gauge.
    assert.equal(families.get('async_worker_up'), undefined);
    await app.close();

    @Module({
      imports: [
        DelayedModule.forRoot({ connection: db.server.client(), queue }),
        DelayedMetricsModule.forRootAsync({ useFactory: () => ({ prefix: '9bad' }) }),
      ],
    })
    class BadAsyncApp {}
    await assert.rejects(
      NestFactory.create(BadAsyncApp, { logger: false, abortOnError: false }),
      (error: unknown) => error instanceof InvalidOptionsError && /prefix/.test(error.message),
    );
  });

  it('refuses a registry that already has its metric names, and leaves that registry as it was', async () => {
    const registry = new Registry();
    new Counter({ name: 'delayed_tasks_failed_total', help: 'mine', registers: [registry] });
    // The app fails while it is made, so nobody closes the module's connection: pass our own.
    await assert.rejects(
      httpApp(db.server.client(), uniqueName(), { registry }),
      (error: unknown) =>
        error instanceof InvalidOptionsError &&
        /delayed_tasks_failed_total/.test(error.message) &&
        /prefix/.test(error.message),
    );
    assert.deepEqual(
      registry.getMetricsAsArray().map((metric) => (metric as unknown as { name: string }).name),
      ['delayed_tasks_failed_total'],
    );
  });

  it('sees the worker the host makes, whatever the order of the modules', async () => {
    const queue = uniqueName('order');
    const registry = new Registry();
    @Module({
      imports: [
        DelayedMetricsModule.forRoot({ registry }),
        DelayedModule.forRoot({
          connection: db.server.url,
          queue,
          worker: { dequeueTimeout: 100 },
        }),
      ],
      providers: [Jobs],
    })
    class MetricsFirst {}
    const app = await NestFactory.create(MetricsFirst, { logger: false, abortOnError: false });
    apps.push(app);
    await app.init();
    assert.ok(app.get(DelayedHost).activeWorker);
    await app.get(DelayedQueue).delay(Jobs, 'ok');
    await eventually(async () => {
      const parsed = parsePrometheusText(await registry.metrics());
      return value(parsed, 'delayed_tasks_completed_total', { queue, task: 'metrics.ok' }) === 1;
    });
    await app.close();
  });
});
