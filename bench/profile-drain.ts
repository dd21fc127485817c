import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { HandlerRegistry, NodeTask, Queue, Worker } from '../lib/core/index.js';
import { QUEUE_NAME, silentLogger, TASK_NAME } from './contenders/contender.js';
import { profileMarkdown, summariseProfile } from './cpuprofile.js';
import { compiledBenchDir, profilesDir, resultsDir } from './paths.js';
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
  const worker = new Worker({ queues: [queue], handlers, concurrency: CONCURRENCY, logger: silentLogger });
  await redis.ping();
  const t0 = performance.now();
  await worker.start();
  const limit = setTimeout(finish, TIME_LIMIT_MS);
  await finished;
  const ms = performance.now() - t0;
  clearTimeout(limit);
  await worker.close();
  await redis.quit();
  process.stdout.write(`${JSON.stringify({ done, ms })}\n`);
}

async function parent(count: number): Promise<void> {
  const redis = await startBenchRedis();
  try {
    const queue = new Queue(redis.admin, QUEUE_NAME);
    for (let from = 0; from < count; from += 1_000) {
      const tasks: NodeTask[] = [];
      for (let i = from; i < Math.min(count, from + 1_000); i++) tasks.push(new NodeTask(TASK_NAME, [i]));
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
    const { done, ms } = JSON.parse(result) as { done: number; ms: number };
    if (!readdirSync(profilesDir).includes(name)) throw new Error(`no profile written at ${name}`);
    const summary = summariseProfile(join(profilesDir, name));
    const markdown = [
      `# Profile: nestjs-delayed worker drain, concurrency ${CONCURRENCY} (${date})`,
      '',
      `${done.toLocaleString('en-US')} no-op tasks drained in ${ms.toFixed(0)} ms ` +
        `(${Math.round((done * 1000) / ms).toLocaleString('en-US')} tasks/s under the profiler, which slows it down). ` +
        `Command: \`node .build/bench/profile-drain.js --n ${count}\` (the drain runs under \`node --cpu-prof\`). ` +
        `Profile: bench/results/profiles/${name} (gitignored).`,
      '',
      profileMarkdown(summary),
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
