import { Redis } from 'ioredis';
import { DataQueue } from '../lib/core/index.js';
import { planPlacement } from './affinity.js';
import { collectGarbage } from './gc.js';
import { type BenchRedis, startBenchRedis } from './redis-server.js';

/**
 * Where a data queue's time goes, one call at a time (the bench's `data` shape): for each
 * batch size, the wall time per item of put and of get+done, this process's CPU (all its
 * threads, GC included) and Redis' CPU (INFO cpu) per item, and Redis' time per item in each
 * command (INFO commandstats: EVALSHA's time includes the commands its script runs, which are
 * also listed on their own). One call at a time, Node and Redis mostly take turns, so the two
 * CPU figures say which side to cut.
 *
 *   node .build/bench/data-breakdown.js [ITEMS] [ROUNDS]
 */
const ITEMS = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 2);
const QUEUE = 'bench-data-breakdown';
const BATCHES = [1, 100, 1_000];

type CommandStats = Map<string, { calls: number; usec: number }>;

async function commandStats(redis: BenchRedis): Promise<CommandStats> {
  const text = await redis.admin.info('commandstats');
  const stats: CommandStats = new Map();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    stats.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return stats;
}

/** Redis' time per item in each command, largest first (INFO itself left out). */
function perItem(before: CommandStats, after: CommandStats, items: number): string {
  const rows: [string, number][] = [];
  for (const [name, { usec }] of after) {
    const spent = usec - (before.get(name)?.usec ?? 0);
    if (name !== 'info' && spent > 0) rows.push([name, spent / items]);
  }
  return rows
    .sort((a, b) => b[1] - a[1])
    .map(([name, us]) => `${name} ${us.toFixed(2)}`)
    .join(', ');
}

async function timed(
  redis: BenchRedis,
  label: string,
  items: number,
  body: () => Promise<void>,
): Promise<void> {
  const stats0 = await commandStats(redis);
  const redis0 = await redis.cpuSeconds();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await body();
  const wallUs = (performance.now() - t0) * 1000;
  const cpu = process.cpuUsage(cpu0);
  const redisUs = ((await redis.cpuSeconds()) - redis0) * 1e6;
  const stats1 = await commandStats(redis);
  console.log(
    `${label}: ${Math.round((items * 1e6) / wallUs).toLocaleString('en-US')} items/s; per item ` +
      `wall ${(wallUs / items).toFixed(2)} us, Node CPU ${((cpu.user + cpu.system) / items).toFixed(2)} us, ` +
      `Redis CPU ${(redisUs / items).toFixed(2)} us; Redis commands (us/item): ${perItem(stats0, stats1, items)}`,
  );
}

async function round(redis: BenchRedis, batch: number, count: number): Promise<void> {
  await redis.flushAll();
  await redis.admin.config('RESETSTAT');
  const batches: { n: number; user: string; tags: string[] }[][] = [];
  for (let i = 0; i < count; i += batch) {
    const chunk = [];
    for (let n = i; n < Math.min(count, i + batch); n++)
      chunk.push({ n, user: 'u123', tags: ['a', 'b'] });
    batches.push(chunk);
  }
  collectGarbage();
  const client = new Redis(redis.url, { autoResendUnfulfilledCommands: false });
  try {
    await client.ping();
    const queue = new DataQueue(client, QUEUE, { visibilityTimeout: 30_000 });
    await timed(redis, `batch ${batch} put`, count, async () => {
      for (const chunk of batches) await queue.put(chunk);
    });
    await timed(redis, `batch ${batch} get+done`, count, async () => {
      for (;;) {
        const taken = await queue.get(batch);
        if (taken.size === 0) return;
        await queue.done(taken);
      }
    });
    const left = await redis.admin.dbsize();
    if (left !== 0) throw new Error(`${left} key(s) left in Redis`);
  } finally {
    client.disconnect();
  }
}

async function main(): Promise<void> {
  const placement = planPlacement(true);
  const redis = await startBenchRedis(placement.redisPrefix);
  try {
    console.log(`Redis ${redis.version}; ${placement.description}; round 1 is a warm-up`);
    for (const batch of BATCHES) {
      // Batch 1 makes a round trip or two per item: a fifth of the items is plenty.
      const count = batch === 1 ? Math.ceil(ITEMS / 5) : ITEMS;
      for (let r = 1; r <= ROUNDS; r++) await round(redis, batch, count);
    }
  } finally {
    await redis.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error((error as Error).stack ?? String(error));
    process.exit(1);
  },
);
