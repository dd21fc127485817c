import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { QueueCounts, QueueInspector } from '../../lib/core/index.js';
import { CountHistory } from '../../lib/dashboard/count-history.js';
import { CountsSampler } from '../../lib/dashboard/counts-sampler.js';
import { quietLogger } from '../helpers/redis-server.js';

function counts(at: number, waiting: number): QueueCounts {
  return {
    queue: 'q',
    waiting,
    running: waiting + 1,
    scheduled: 0,
    dead: 0,
    schedules: 0,
    paused: false,
    lateness: 0,
    nextDueAt: null,
    at,
  };
}

describe('CountHistory', () => {
  it('keeps the last `capacity` samples, oldest first', () => {
    const history = new CountHistory(3);
    assert.deepEqual(history.series().at, []);
    for (let i = 1; i <= 5; i++) history.add(counts(i * 10, i));
    assert.equal(history.length, 3);
    assert.deepEqual(history.series(), {
      at: [30, 40, 50],
      waiting: [3, 4, 5],
      running: [4, 5, 6],
      scheduled: [0, 0, 0],
      dead: [0, 0, 0],
    });
  });
});

describe('CountsSampler', () => {
  it('never overlaps its reads, and stop() waits for the one in flight', async () => {
    let inFlight = 0;
    let most = 0;
    let reads = 0;
    // A stand-in for a slow Redis: each read takes 60 ms, the interval is 10 ms.
    const slow = {
      name: 'q',
      counts: async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await sleep(60);
        inFlight--;
        reads++;
        return counts(Date.now(), reads);
      },
    } as unknown as QueueInspector;
    const sampler = new CountsSampler([slow], 10, 100, quietLogger);
    sampler.start();
    // Several intervals pass during each read: reads must wait for each other anyway.
    while (reads < 4) await sleep(5);
    await sampler.stop();
    const after = reads;
    assert.equal(most, 1);
    assert.equal(inFlight, 0);
    assert.equal(sampler.history('q').waiting.length, after);
    await sleep(150);
    assert.equal(reads, after, 'no read after stop()');
  });

  it('leaves a gap for a failed read, logs it once, and goes on', async () => {
    let calls = 0;
    const warnings: string[] = [];
    const logs: string[] = [];
    const flaky = {
      name: 'q',
      counts: async () => {
        calls++;
        if (calls >= 2 && calls <= 4) throw new Error('Redis is away');
        return counts(calls, calls);
      },
    } as unknown as QueueInspector;
    const sampler = new CountsSampler([flaky], 10, 100, {
      ...quietLogger,
      warn: (message) => warnings.push(message),
      log: (message) => logs.push(message),
    });
    sampler.start();
    while (calls < 6) await sleep(5);
    await sampler.stop();
    assert.deepEqual(sampler.history('q').waiting.slice(0, 2), [1, 5]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /"q": Redis is away/);
    assert.equal(logs.length, 1);
  });
});
