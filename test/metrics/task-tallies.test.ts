import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CachedCounts, type CountsSnapshot } from '../../lib/metrics/cached-counts.js';
import {
  STARTED,
  TaskTallies,
  UNREADABLE_TASK,
  UNREGISTERED_TASK,
} from '../../lib/metrics/task-tallies.js';
import { resolveMetricsOptions } from '../../lib/metrics/metrics.options.js';

describe('TaskTallies', () => {
  it('keeps one tally per handler and queue, and one for every name no handler has', () => {
    const tallies = new TaskTallies((name) => name === 'send', [0.1, 1]);
    for (let i = 0; i < 1_000; i++) tallies.get('q', `junk-${i}`).counts[STARTED]!++;
    tallies.get('q', 'send').counts[STARTED]!++;
    tallies.get('q', null).counts[STARTED]!++;
    tallies.get('other', 'send').counts[STARTED]!++;
    assert.deepEqual(
      tallies.all.map((tally) => [tally.queue, tally.task, tally.counts[STARTED]]),
      [
        ['q', UNREGISTERED_TASK, 1_000],
        ['q', 'send', 1],
        ['q', UNREADABLE_TASK, 1],
        ['other', 'send', 1],
      ],
    );
  });

  it('puts durations (ms) in the buckets of their seconds, the bound itself included', () => {
    const tallies = new TaskTallies(() => true, [0.1, 1]);
    const tally = tallies.get('q', 'send');
    for (const ms of [0, 100, 100.5, 1_000, 1_001, 60_000]) tallies.observe(tally, 0, ms);
    const durations = tally.durations[0]!;
    assert.deepEqual([...durations.buckets], [2, 2, 2]);
    assert.equal(durations.count, 6);
    assert.ok(Math.abs(durations.sum - 62.2015) < 1e-9);
    tallies.resetDurations();
    assert.equal(tally.durations[0], undefined);
    assert.equal(tally.counts[STARTED], 0);
  });
});

describe('CachedCounts', () => {
  const snapshot: CountsSnapshot = { counts: [], failures: [] };

  it('shares a read in flight, serves it for maxAge from its start, then reads again', async () => {
    let reads = 0;
    let finish!: () => void;
    let now = 0;
    const cached = new CachedCounts(
      () => {
        reads++;
        return new Promise((resolve) => (finish = () => resolve(snapshot)));
      },
      1_000,
      () => now,
    );
    const first = cached.get();
    now = 5_000; // a slow read: still in flight, still shared
    const second = cached.get();
    assert.equal(reads, 1);
    finish();
    assert.equal(await first, await second);
    // Its start was at 0: it is past maxAge now.
    const fourth = cached.get();
    assert.equal(reads, 2);
    finish();
    await fourth;
    now = 5_999;
    await cached.get();
    assert.equal(reads, 2);
    now = 6_000;
    const third = cached.get();
    assert.equal(reads, 3);
    finish();
    await third;
  });

  it('with maxAge 0 reads for every call but still shares a read in flight', async () => {
    let reads = 0;
    const cached = new CachedCounts(() => {
      reads++;
      return Promise.resolve(snapshot);
    }, 0);
    await Promise.all([cached.get(), cached.get(), cached.get()]);
    assert.equal(reads, 1);
    await cached.get();
    assert.equal(reads, 2);
  });
});

describe('resolveMetricsOptions', () => {
  it('applies the defaults', () => {
    const resolved = resolveMetricsOptions({});
    assert.equal(resolved.prefix, 'delayed_');
    assert.equal(resolved.cacheTime, 1_000);
    assert.equal(resolved.timeout, undefined);
    assert.equal(resolved.registry, undefined);
    assert.deepEqual(resolved.queues, []);
    assert.equal(resolved.buckets[0], 0.005);
  });

  it('names every problem, and where path goes', () => {
    assert.throws(
      () =>
        resolveMetricsOptions({
          prefix: 'a-b',
          buckets: [],
          timeout: 0,
          queues: [''],
          path: '/metrics',
          registry: {},
        } as never),
      (error: Error) =>
        [/prefix/, /buckets/, /timeout/, /queues/, /path goes beside/, /registry must be/].every(
          (pattern) => pattern.test(error.message),
        ),
    );
  });
});
