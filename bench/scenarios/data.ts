import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { DataQueue } from '../../lib/core/index.js';
import { collectGarbage } from '../gc.js';
import { pythonPeer } from '../paths.js';
import { runPythonDriver } from '../peers/python-driver.js';
import type { BenchRedis } from '../redis-server.js';
import type { Sizes } from '../sizes.js';
import { median, perSecond, ratio } from '../stats.js';

/**
 * Issue 12: our DataQueue against rpqueue's data queue (rpqueue.Data, the Python package from
 * PyPI, run from the interop venv) on the same Redis in the same run. Both sides do the same
 * thing one call at a time: put N items in batches of B, then get B with a 30 s visibility
 * timeout and mark the batch done, until a get finds the queue empty. Items are the same
 * small JSON-like objects on both sides; every item must come back intact and be done once,
 * and Redis must be empty at the end of each run.
 */
export interface DataRow {
  /**
   * get+done: a get, then a done call per batch (as rpqueue does, in two calls); get(done):
   * ours only, the done carried by the next get (`get(B, { done: batch })`), one call per batch.
   */
  readonly operation: 'put' | 'get+done' | 'get(done)';
  readonly batch: number;
  readonly items: number;
  /**
   * Our loops in flight at once, each one call at a time: 1 is rpqueue's shape and the row
   * compared with it; more is ours alone (what a consumer with several gets in flight does).
   */
  readonly loops: number;
  /** items/s per measured run. */
  readonly runs: { readonly ours: number[]; readonly rpqueue: number[] };
  readonly median: { readonly ours: number; readonly rpqueue: number };
  /** median(ours) / median(rpqueue); NaN without rpqueue. */
  readonly ratio: number;
  readonly targetMet?: boolean;
}

export interface DataResult {
  readonly rpqueue:
    | { readonly available: true; readonly version: string; readonly redisPy: string }
    | { readonly available: false; readonly reason: string };
  readonly visibilityTimeoutMs: number;
  readonly target: { readonly ratio: number; readonly text: string };
  readonly rows: DataRow[];
}

interface DataItem {
  readonly n: number;
  readonly user: string;
  readonly tags: readonly string[];
}

/** Seconds each phase of one run took. */
interface PhaseSeconds {
  readonly put: number;
  readonly getDone: number;
}

/** How our consumer marks a batch done: its own call, or carried by the next get. */
type DoneMode = 'separate' | 'carried';

export const DATA_TARGET_RATIO = 5;
/** Our extra rows: this many put loops, then this many get+done loops, in flight at once. */
export const DATA_LOOPS_IN_FLIGHT = 4;
const QUEUE = 'bench-data';
const VISIBILITY_TIMEOUT_MS = 30_000;
const PY_TIME_LIMIT_S = 300;

/** The items of a run, built before the clock starts: the shape the Python driver builds. */
function makeItems(count: number): DataItem[] {
  const items: DataItem[] = new Array<DataItem>(count);
  for (let n = 0; n < count; n++) items[n] = { n, user: 'u123', tags: ['a', 'b'] };
  return items;
}

/** Items per run at this batch size: batch 1 makes one round trip per item, so fewer. */
export function dataItems(sizes: Sizes, batch: number): number {
  return batch === 1 ? sizes.dataSingle : sizes.dataBatched;
}

/** The discarded warm-up run's items: enough calls to warm the JIT and load the scripts. */
function warmUpItems(count: number, batch: number): number {
  return Math.min(count, Math.max(1_000, 2 * batch));
}

export async function rpqueueVersion(): Promise<
  { version: string; redisPy: string } | { reason: string }
> {
  if (!existsSync(pythonPeer)) {
    return { reason: 'test/interop/python/.venv is absent (run test/interop/setup.sh python)' };
  }
  try {
    const { stdout } = await promisify(execFile)(
      pythonPeer,
      ['-c', 'import redis, rpqueue; print(rpqueue.VERSION, redis.__version__)'],
      { timeout: 30_000 },
    );
    const [version = 'unknown', redisPy = 'unknown'] = stdout.trim().split(' ');
    return { version, redisPy };
  } catch (error) {
    return { reason: `the venv cannot import rpqueue: ${lastLine((error as Error).message)}` };
  }
}

/** Ours: `loops` put loops, then `loops` get+done loops, each awaiting one call at a time. */
async function oursRun(
  redis: BenchRedis,
  batch: number,
  count: number,
  loops: number,
  doneMode: DoneMode = 'separate',
): Promise<PhaseSeconds> {
  await redis.flushAll();
  const items = makeItems(count);
  const batches: DataItem[][] = [];
  for (let i = 0; i < count; i += batch) batches.push(items.slice(i, i + batch));
  collectGarbage();
  const client = new Redis(redis.url, { autoResendUnfulfilledCommands: false });
  try {
    await client.ping();
    const queue = new DataQueue<DataItem>(client, QUEUE, {
      visibilityTimeout: VISIBILITY_TIMEOUT_MS,
    });
    const inFlight = (loop: () => Promise<void>) =>
      Promise.all(Array.from({ length: loops }, loop));

    const t0 = performance.now();
    let next = 0;
    await inFlight(async () => {
      while (next < batches.length) await queue.put(batches[next++]!);
    });
    const t1 = performance.now();
    let got = 0;
    let done = 0;
    let total = 0;
    await inFlight(async () => {
      // Nothing is being put any more: an empty get means the rest is held by other loops.
      if (doneMode === 'carried') {
        // The done of each batch travels with the next get; the last get finds nothing.
        let taken = await queue.get(batch);
        while (taken.size > 0) {
          got += taken.size;
          done += taken.size;
          for (const item of taken.values()) total += item.n;
          taken = await queue.get(batch, { done: taken });
        }
        return;
      }
      for (;;) {
        const taken = await queue.get(batch);
        if (taken.size === 0) return;
        // Awaited first, then added: `done += await …` would add to a stale `done` when
        // another loop updated it meanwhile.
        const removed = await queue.done(taken);
        done += removed;
        got += taken.size;
        for (const item of taken.values()) total += item.n;
      }
    });
    const t2 = performance.now();

    checkConsumed('nestjs-delayed', count, got, done, total);
    await checkEmpty(redis, 'nestjs-delayed');
    return { put: (t1 - t0) / 1000, getDone: (t2 - t1) / 1000 };
  } finally {
    client.disconnect();
  }
}

/** rpqueue: bench/peers/rpqueue_data.py in its own process, timing itself. */
async function rpqueueRun(redis: BenchRedis, batch: number, count: number): Promise<PhaseSeconds> {
  await redis.flushAll();
  const done = await runDriver(redis.url, batch, count);
  await checkEmpty(redis, 'rpqueue');
  return { put: done.put_seconds, getDone: done.get_done_seconds };
}

function checkConsumed(side: string, count: number, got: number, done: number, total: number) {
  const expected = (count * (count - 1)) / 2;
  if (got !== count || done !== count || total !== expected) {
    throw new Error(
      `${side}: put ${count} items but got ${got} and marked ${done} done (sum of n ${total}, expected ${expected})`,
    );
  }
}

/** The same semantics on both sides: every item done, so nothing at all is left in Redis. */
async function checkEmpty(redis: BenchRedis, side: string): Promise<void> {
  const left = await redis.admin.keys('*');
  if (left.length > 0) throw new Error(`${side} left key(s) in Redis: ${left.join(', ')}`);
}

interface DriverDone {
  readonly event: 'done';
  readonly count: number;
  readonly put_seconds: number;
  readonly get_done_seconds: number;
  readonly intact: boolean;
  readonly keys_left: number;
}

async function runDriver(url: string, batch: number, count: number): Promise<DriverDone> {
  const { code, done, stderr } = await runPythonDriver<DriverDone>(
    'rpqueue_data.py',
    ['--redis', url, '--queue', QUEUE, '--batch', String(batch), '--count', String(count)],
    PY_TIME_LIMIT_S,
  );
  if (code !== 0 || !done || done.count !== count || !done.intact || done.keys_left !== 0) {
    throw new Error(`The rpqueue driver failed (exit ${code}): ${JSON.stringify(done)}\n${stderr}`);
  }
  return done;
}

export async function dataQueues(
  redis: BenchRedis,
  sizes: Sizes,
  repeats: number,
  log: (line: string) => void,
): Promise<DataResult> {
  const probe = await rpqueueVersion();
  const withRpqueue = !('reason' in probe);
  if (!withRpqueue) log(`[data] rpqueue: skipped, ${probe.reason}`);
  const rows: DataRow[] = [];

  for (const batch of sizes.dataBatches) {
    const count = dataItems(sizes, batch);
    const warm = warmUpItems(count, batch);
    await oursRun(redis, batch, warm, 1);
    await oursRun(redis, batch, warm, DATA_LOOPS_IN_FLIGHT);
    await oursRun(redis, batch, warm, 1, 'carried');
    if (withRpqueue) await rpqueueRun(redis, batch, warm);

    const runs = {
      ours: [] as PhaseSeconds[],
      rpqueue: [] as PhaseSeconds[],
      loops: [] as PhaseSeconds[],
      carried: [] as PhaseSeconds[],
    };
    for (let repeat = 1; repeat <= repeats; repeat++) {
      // Alternate who goes first, across repeats and batch sizes.
      const oursFirst = (repeat + batch) % 2 === 1;
      const sides = oursFirst ? (['ours', 'rpqueue'] as const) : (['rpqueue', 'ours'] as const);
      for (const side of sides) {
        if (side === 'rpqueue' && !withRpqueue) continue;
        const run =
          side === 'ours'
            ? await oursRun(redis, batch, count, 1)
            : await rpqueueRun(redis, batch, count);
        runs[side].push(run);
        log(
          `[data] batch ${batch} run ${repeat}/${repeats} ${side === 'ours' ? 'nestjs-delayed' : 'rpqueue'}: ${describe(count, run)}`,
        );
      }
      // Carried dones are counted as done by the check of an empty Redis at the end.
      const carried = await oursRun(redis, batch, count, 1, 'carried');
      runs.carried.push(carried);
      log(
        `[data] batch ${batch} run ${repeat}/${repeats} nestjs-delayed, done carried by the next get: ${describe(count, carried)}`,
      );
      const run = await oursRun(redis, batch, count, DATA_LOOPS_IN_FLIGHT);
      runs.loops.push(run);
      log(
        `[data] batch ${batch} run ${repeat}/${repeats} nestjs-delayed, ${DATA_LOOPS_IN_FLIGHT} loops in flight: ${describe(count, run)}`,
      );
    }

    for (const [operation, phase] of [
      ['put', 'put'],
      ['get+done', 'getDone'],
    ] as const) {
      const rate = (list: PhaseSeconds[]) => list.map((run) => perSecond(count, run[phase] * 1000));
      const ours = rate(runs.ours);
      const theirs = rate(runs.rpqueue);
      const medians = { ours: median(ours), rpqueue: median(theirs) };
      const r = ratio(medians.ours, medians.rpqueue);
      rows.push({
        operation,
        batch,
        items: count,
        loops: 1,
        runs: { ours, rpqueue: theirs },
        median: medians,
        ratio: r,
        ...(Number.isFinite(r) ? { targetMet: r >= DATA_TARGET_RATIO } : {}),
      });
      if (phase === 'getDone') {
        const carried = rate(runs.carried);
        const carriedMedian = median(carried);
        const carriedRatio = ratio(carriedMedian, medians.rpqueue);
        rows.push({
          operation: 'get(done)',
          batch,
          items: count,
          loops: 1,
          runs: { ours: carried, rpqueue: theirs },
          median: { ours: carriedMedian, rpqueue: medians.rpqueue },
          ratio: carriedRatio,
          ...(Number.isFinite(carriedRatio)
            ? { targetMet: carriedRatio >= DATA_TARGET_RATIO }
            : {}),
        });
      }
      const loops = rate(runs.loops);
      rows.push({
        operation,
        batch,
        items: count,
        loops: DATA_LOOPS_IN_FLIGHT,
        runs: { ours: loops, rpqueue: [] },
        median: { ours: median(loops), rpqueue: Number.NaN },
        ratio: Number.NaN,
      });
    }
  }

  return {
    rpqueue: withRpqueue
      ? { available: true, version: probe.version, redisPy: probe.redisPy }
      : { available: false, reason: probe.reason },
    visibilityTimeoutMs: VISIBILITY_TIMEOUT_MS,
    target: { ratio: DATA_TARGET_RATIO, text: `>= ${DATA_TARGET_RATIO}x rpqueue` },
    rows,
  };
}

function describe(count: number, run: PhaseSeconds): string {
  const rate = (seconds: number) =>
    `${Math.round(perSecond(count, seconds * 1000)).toLocaleString('en-US')} items/s`;
  return `put ${rate(run.put)}, get+done ${rate(run.getDone)}`;
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1] ?? text;
}
