import 'reflect-metadata';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  DelayedModule,
  DelayedQueue,
  NotReplicatedError,
  Task,
  DELAYED_CONNECTION,
  type DelayedConnection,
} from '../../lib/index.js';
import { describeRedis } from '../../lib/core/index.js';
import { useRedisSentinel } from '../helpers/redis-sentinel.js';
import { eventually } from '../helpers/redis-server.js';

// A primary, a replica and three sentinels of its own: this file kills the primary.
const started = useRedisSentinel();

@Injectable()
class Recorder {
  static readonly runs = new Map<number, number>();
  static readonly times: number[] = [];

  @Task({ queue: 'sentinel-jobs' })
  async record(n: number) {
    Recorder.runs.set(n, (Recorder.runs.get(n) ?? 0) + 1);
    Recorder.times.push(Date.now());
    await sleep(1);
  }
}

describe('Sentinel: the primary killed mid-run (the replica promoted)', () => {
  it('takes { sentinels, name }, loses no durable enqueue, and recovers by itself', async () => {
    const { sentinel } = started;
    const moduleRef = await Test.createTestingModule({
      imports: [
        DelayedModule.forRoot({
          connection: { sentinels: [...sentinel.sentinels], name: sentinel.masterName },
          queue: 'sentinel-jobs',
          durable: { replicas: 1, timeout: 200 },
          // Tasks a dequeue with a lost answer handed to given-up ids come back once their
          // liveness keys expire: 3 s here, as in the cluster failover test.
          worker: {
            concurrency: 20,
            dequeueTimeout: 200,
            keepAliveInterval: 500,
            keepAliveTimeout: 3_000,
          },
          sweeper: { interval: 500 },
        }),
      ],
      providers: [Recorder],
    }).compile();
    const application = moduleRef.createNestApplication({ logger: false });
    await application.init();
    try {
      const { redis } = application.get<DelayedConnection>(DELAYED_CONNECTION);
      assert.match(describeRedis(redis), /the primary "[\w-]+" of the sentinels 127\.0\.0\.1:\d+/);
      const delayed = application.get(DelayedQueue);
      const acknowledged: number[] = [];
      const notReplicated: number[] = [];
      let failed = 0;
      const producing = (async () => {
        for (let n = 0; n < 2_000; n++) {
          try {
            await delayed.delay(Recorder, 'record', n);
            acknowledged.push(n);
          } catch (error) {
            // Written on a primary that answered: it must run. With the connection lost, the
            // primary that took it may have died with it: its outcome is unknown.
            if (error instanceof NotReplicatedError && !error.connectionLost) notReplicated.push(n);
            else failed++;
          }
          if (n % 10 === 0) await sleep(5);
        }
      })();
      await eventually(() => Recorder.runs.size >= 500, 20_000, '500 tasks run');
      const { port, failoverMs } = await sentinel.killPrimary();
      const killedAt = Date.now() - failoverMs;
      await sentinel.restart(port);
      await producing;
      // Written on a primary that answered: a durable enqueue not replicated in time runs too.
      const mustRun = [...acknowledged, ...notReplicated];
      try {
        await eventually(
          () => mustRun.every((n) => Recorder.runs.has(n)),
          20_000,
          'every acknowledged task run',
        );
      } catch (error) {
        const missing = mustRun.filter((n) => !Recorder.runs.has(n));
        const processing = await redis.hlen('sentinel-jobs_processing');
        const waiting = await redis.llen('sentinel-jobs');
        const notifications = await redis.llen('sentinel-jobs_noti');
        throw new Error(
          `${String(error)}: missing ${missing.length} (${missing.filter((n) => acknowledged.includes(n)).length} acknowledged, ${missing.filter((n) => notReplicated.includes(n)).length} not replicated: ${missing.slice(0, 10).join(',')}); in Redis: ${waiting} waiting, ${notifications} notifications, ${processing} in processing`,
          { cause: error },
        );
      }
      let outage = 0;
      for (let i = 1; i < Recorder.times.length; i++) {
        const [before, after] = [Recorder.times[i - 1]!, Recorder.times[i]!];
        if (after > killedAt) outage = Math.max(outage, after - before);
      }
      const duplicates = [...Recorder.runs.values()].filter((n) => n > 1).length;
      console.log(
        `sentinel failover after ${failoverMs} ms; worker outage ${outage} ms; ${acknowledged.length} acknowledged, ${notReplicated.length} not replicated, ${failed} failed, 0 lost; ${duplicates} run twice`,
      );
      assert.ok(duplicates <= 40, `${duplicates} tasks run twice`);
      assert.ok(outage < 15_000, `the worker took ${outage} ms to run tasks again`);
      assert.ok(
        acknowledged.some((n) => n > 1_900),
        'enqueues go on after the failover',
      );
    } finally {
      await application.close();
    }
  });
});
