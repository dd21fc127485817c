import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { CONTENDER_LABELS, type ContenderId, createContender } from '../contenders/index.js';
import { compiledBenchDir } from '../paths.js';
import type { BenchRedis } from '../redis-server.js';
import { type SoakSample, type SoakWorkerConfig, WARM_SHARE } from './soak-protocol.js';

/** Soak sizes: ours moves a million tasks; BullMQ, slower, fewer. Both are bounded in time. */
export const SOAK_PLAN: Record<ContenderId, { total: number; timeLimitMs: number }> = {
  ours: { total: 1_000_000, timeLimitMs: 240_000 },
  bullmq: { total: 200_000, timeLimitMs: 100_000 },
};
const CONCURRENCY = 100;
/** The producer keeps the backlog between these (Redis memory stays bounded). */
const BACKLOG_LOW = 20_000;
const BACKLOG_HIGH = 50_000;

export interface SoakResult {
  readonly contender: ContenderId;
  readonly label: string;
  readonly concurrency: number;
  readonly planned: number;
  readonly done: number;
  readonly timedOut: boolean;
  readonly seconds: number;
  readonly tasksPerSecond: number;
  /** RSS before the first task, after a GC. */
  readonly rssStart: number;
  /** RSS once 5 % of the tasks were done, right after a full GC. */
  readonly rssWarm: number;
  readonly rssPeak: number;
  /** RSS at the end, idle, after a full GC. */
  readonly rssFinal: number;
  /** rssFinal - rssWarm: what the worker kept while running the rest. */
  readonly rssGrowth: number;
  readonly heapWarm: number;
  readonly heapFinal: number;
  readonly samples: SoakSample[];
}

interface Line extends Partial<SoakSample> {
  type: 'ready' | 'sample' | 'warm' | 'final' | 'done';
  seconds?: number;
  timedOut?: boolean;
}

export async function soak(
  redis: BenchRedis,
  id: ContenderId,
  log: (line: string) => void,
): Promise<SoakResult> {
  const plan = SOAK_PLAN[id];
  await redis.flushAll();
  const config: SoakWorkerConfig = {
    contender: id,
    host: redis.host,
    port: redis.port,
    total: plan.total,
    timeLimitMs: plan.timeLimitMs,
    concurrency: CONCURRENCY,
  };
  const child = spawn(
    process.execPath,
    ['--expose-gc', join(compiledBenchDir, 'soak-worker.js'), JSON.stringify(config)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const killer = setTimeout(() => child.kill('SIGKILL'), plan.timeLimitMs + 60_000);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );

  const lines: Line[] = [];
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  let childDone = false;
  const reader = createInterface({ input: child.stdout });
  reader.on('line', (text) => {
    const line = JSON.parse(text) as Line;
    lines.push(line);
    if (line.type === 'ready') ready();
    if (
      line.type === 'sample' &&
      line.done !== undefined &&
      line.t !== undefined &&
      Math.round(line.t * 2) % 30 === 0
    ) {
      log(
        `  soak ${CONTENDER_LABELS[id]}: ${line.t.toFixed(0)} s, ${line.done.toLocaleString('en-US')} done, RSS ${mb(line.rss!)} MB`,
      );
    }
    if (line.type === 'final' || line.type === 'done') childDone = true;
  });

  const producer = createContender(id, redis.host, redis.port);
  await producer.open();
  try {
    await Promise.race([
      isReady,
      exited.then(() => Promise.reject(new Error('soak worker exited early'))),
    ]);
    const deadline = Date.now() + plan.timeLimitMs;
    let produced = 0;
    while (produced < plan.total && !childDone && Date.now() < deadline) {
      const backlog = await producer.backlog();
      if (backlog >= BACKLOG_LOW) {
        await sleep(20);
        continue;
      }
      const target = Math.min(plan.total, produced + (BACKLOG_HIGH - backlog));
      while (produced < target) {
        const count = Math.min(1_000, target - produced);
        await producer.addBulk(produced, count);
        produced += count;
      }
    }
    const code = await exited;
    if (code !== 0) throw new Error(`soak worker exited with code ${code}`);
  } finally {
    clearTimeout(killer);
    if (child.exitCode === null) child.kill('SIGKILL');
    await producer.close();
    await redis.flushAll();
  }
  return summarise(id, plan.total, lines);
}

function summarise(id: ContenderId, planned: number, lines: Line[]): SoakResult {
  const samples = lines
    .filter(
      (l) => l.type === 'ready' || l.type === 'sample' || l.type === 'warm' || l.type === 'final',
    )
    .map((l) => ({ t: l.t!, done: l.done!, rss: l.rss!, heapUsed: l.heapUsed! }));
  const start = lines.find((l) => l.type === 'ready');
  const final = lines.find((l) => l.type === 'final');
  const done = lines.find((l) => l.type === 'done');
  if (!start || !final || !done)
    throw new Error('soak worker did not report ready, final and done');
  const total = done.done ?? 0;
  const warmLine = lines.find((l) => l.type === 'warm');
  const warm = warmLine
    ? { t: warmLine.t!, done: warmLine.done!, rss: warmLine.rss!, heapUsed: warmLine.heapUsed! }
    : (samples.find((s) => s.done >= total * WARM_SHARE && s.done > 0) ?? samples[0]!);
  const seconds = done.seconds ?? 0;
  return {
    contender: id,
    label: CONTENDER_LABELS[id],
    concurrency: CONCURRENCY,
    planned,
    done: total,
    timedOut: done.timedOut ?? false,
    seconds,
    tasksPerSecond: seconds > 0 ? total / seconds : 0,
    rssStart: start.rss!,
    rssWarm: warm.rss,
    rssPeak: Math.max(...samples.map((s) => s.rss)),
    rssFinal: final.rss!,
    rssGrowth: final.rss! - warm.rss,
    heapWarm: warm.heapUsed,
    heapFinal: final.heapUsed!,
    samples,
  };
}

export function mb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}
