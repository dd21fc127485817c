import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { HandlerRegistry, NodeTask, Queue, Worker } from '../lib/core/index.js';
import { QUEUE_NAME, silentLogger, TASK_NAME } from './contenders/contender.js';
import { profileMarkdown, summariseProfile } from './cpuprofile.js';
import { engineRevision } from './machine.js';
import { compiledBenchDir, profilesDir, resultsDir } from './paths.js';
import { planPlacement } from './affinity.js';
import { startBenchRedis } from './redis-server.js';

/**
 * CPU profile of our worker draining N no-op tasks at concurrency 100.
 *
 *   node .build/bench/profile-drain.js [--n 200000]
 *
 * The parent starts a throw-away Redis and fills the queue; the drain runs in a child under
 * `node --cpu-prof`, so the profile holds the worker and nothing of the filling. The parent
 * then prints the top self-time functions and writes them to bench/results/<date>-profile-drain.md
 * (the .cpuprofile itself goes to bench/results/profiles/, gitignored; open it in Chrome
 * DevTools or speedscope).
 */
const CONCURRENCY = 100;
const TIME_LIMIT_MS = 300_000;

async function drainChild(url: string, count: number): Promise<void> {
  const redis = new Redis(url);
  const queue = new Queue(redis, QUEUE_NAME);
  const handlers = new HandlerRegistry();
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  handlers.register(TASK_NAME, () => {
    if (++done === count) finish();
  });
  const worker = new Worker({
    queues: [queue],
    handlers,
    concurrency: CONCURRENCY,
    logger: silentLogger,
  });
  await redis.ping();
  await sleep(100); // the worker's own connections
  await redis.config('RESETSTAT');
  const cpuBefore = redisCpuSeconds(await redis.info('cpu'));
  const startUs = Number(process.hrtime.bigint() / 1000n);
  const t0 = performance.now();
  await worker.start();
  const limit = setTimeout(finish, TIME_LIMIT_MS);
  await finished;
  const ms = performance.now() - t0;
  const endUs = Number(process.hrtime.bigint() / 1000n);
  const cpuAfter = redisCpuSeconds(await redis.info('cpu'));
  const commandStats = await redis.info('commandstats');
  clearTimeout(limit);
  await worker.close();
  await redis.quit();
  const report: ChildReport = {
    done,
    ms,
    window: [startUs, endUs],
    redisCpuSeconds: cpuAfter - cpuBefore,
    commandStats,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

interface ChildReport {
  done: number;
  ms: number;
  /** The drain, in the profile's clock (monotonic microseconds). */
  window: [number, number];
  redisCpuSeconds: number;
  commandStats: string;
}

function redisCpuSeconds(info: string): number {
  const field = (name: string) =>
    Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return field('used_cpu_sys') + field('used_cpu_user');
}

/** `cmdstat_evalsha:calls=2000,usec=123,usec_per_call=0.06,...` -> a markdown table. */
function commandStatsTable(info: string, drainMs: number): string {
  const rows = [...info.matchAll(/^cmdstat_(\S+?):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/gm)]
    .map((m) => ({
      command: m[1]!,
      calls: Number(m[2]),
      usec: Number(m[3]),
      perCall: Number(m[4]),
    }))
    .filter((r) => !['info', 'config', 'ping', 'client', 'quit'].includes(r.command))
    .sort((a, b) => b.usec - a.usec);
  const lines = [
    '| Redis command | Calls | Time in Redis | Per call | Share of the drain |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.command} | ${r.calls.toLocaleString('en-US')} | ${(r.usec / 1000).toFixed(1)} ms | ${r.perCall.toFixed(1)} us | ` +
        `${((r.usec / 1000 / drainMs) * 100).toFixed(1)} % |`,
    );
  }
  return lines.join('\n');
}

async function parent(count: number): Promise<void> {
  const placement = planPlacement(true);
  const redis = await startBenchRedis(placement.redisPrefix);
  try {
    const queue = new Queue(redis.admin, QUEUE_NAME);
    for (let from = 0; from < count; from += 1_000) {
      const tasks: NodeTask[] = [];
      for (let i = from; i < Math.min(count, from + 1_000); i++)
        tasks.push(new NodeTask(TASK_NAME, [i]));
      await queue.enqueueMany(tasks);
    }
    mkdirSync(profilesDir, { recursive: true });
    const date = new Date().toISOString().slice(0, 10);
    const name = `drain-c${CONCURRENCY}-${date}-${Date.now()}.cpuprofile`;
    const args = [
      '--cpu-prof',
      `--cpu-prof-dir=${profilesDir}`,
      `--cpu-prof-name=${name}`,
      join(compiledBenchDir, 'profile-drain.js'),
      '--child',
      redis.url,
      String(count),
    ];
    console.error(`node ${args.join(' ')}`);
    const result = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const killer = setTimeout(() => child.kill('SIGKILL'), TIME_LIMIT_MS + 30_000);
      child.on('exit', (code) => {
        clearTimeout(killer);
        if (code === 0) resolve(out);
        else reject(new Error(`profiled drain exited with code ${code}`));
      });
    });
    const child = JSON.parse(result) as ChildReport;
    const { done, ms } = child;
    if (!readdirSync(profilesDir).includes(name)) throw new Error(`no profile written at ${name}`);
    const summary = summariseProfile(join(profilesDir, name), 25, child.window);
    const markdown = [
      `# Profile: nestjs-delayed worker drain, concurrency ${CONCURRENCY} (${date})`,
      '',
      `${done.toLocaleString('en-US')} no-op tasks drained in ${ms.toFixed(0)} ms ` +
        `(${Math.round((done * 1000) / ms).toLocaleString('en-US')} tasks/s under the profiler, which slows it down). ` +
        `Command: \`node .build/bench/profile-drain.js --n ${count}\` (the drain runs under \`node --cpu-prof\`). ` +
        `Profile: bench/results/profiles/${name} (gitignored). Engine at ${engineRevision()}. ` +
        `CPU placement: ${placement.description}.`,
      '',
      '## Node: self time during the drain (start() to the last task)',
      '',
      profileMarkdown(summary),
      '## Redis during the drain',
      '',
      `redis-server used ${(child.redisCpuSeconds * 1000).toFixed(0)} ms of CPU in the ${ms.toFixed(0)} ms drain ` +
        `(${((child.redisCpuSeconds * 100000) / ms).toFixed(0)} % of its core). INFO commandstats (reset just before the drain):`,
      '',
      commandStatsTable(child.commandStats, ms),
      '',
    ].join('\n');
    writeFileSync(join(resultsDir, `${date}-profile-drain.md`), markdown);
    process.stdout.write(markdown);
  } finally {
    await redis.stop();
  }
}

const argv = process.argv.slice(2);
const n = argv[0] === '--n' ? Number(argv[1]) : 200_000;
if (argv[0] !== '--child' && (!Number.isSafeInteger(n) || n < 1)) {
  console.error('Usage: node .build/bench/profile-drain.js [--n COUNT]');
  process.exit(2);
}
const main = argv[0] === '--child' ? drainChild(argv[1]!, Number(argv[2])) : parent(n);
main.then(
  () => process.exit(0),
  (error: unknown) => {
    console.error((error as Error).stack ?? String(error));
    process.exit(1);
  },
);
