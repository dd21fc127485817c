import { setTimeout as sleep } from 'node:timers/promises';
import { type ContenderId, createContender } from './contenders/index.js';
import { collectGarbage } from './gc.js';

/**
 * The worker side of the RSS soak, in a process of its own so that its RSS is the worker's
 * alone (the producer lives in the bench process). Prints JSON lines on stdout:
 * ready, a sample every second, final (idle, after a full GC), done.
 * Usage: node soak-worker.js '{"contender":"ours","host":"127.0.0.1","port":1234,"total":1000000,"timeLimitMs":240000}'
 */
export interface SoakWorkerConfig {
  readonly contender: ContenderId;
  readonly host: string;
  readonly port: number;
  readonly total: number;
  readonly timeLimitMs: number;
  readonly concurrency: number;
}

export interface SoakSample {
  readonly t: number;
  readonly done: number;
  readonly rss: number;
  readonly heapUsed: number;
}

function emit(type: string, fields: object): void {
  process.stdout.write(`${JSON.stringify({ type, ...fields })}\n`);
}

function sample(t0: number, done: number): SoakSample {
  const usage = process.memoryUsage();
  return { t: (performance.now() - t0) / 1000, done, rss: usage.rss, heapUsed: usage.heapUsed };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as SoakWorkerConfig;
  const contender = createContender(config.contender, config.host, config.port);
  await contender.open();
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const worker = await contender.worker({
    concurrency: config.concurrency,
    onCompleted: () => {
      if (++done === config.total) finish();
    },
  });
  collectGarbage();
  const t0 = performance.now();
  emit('ready', sample(t0, 0));
  const sampler = setInterval(() => emit('sample', sample(t0, done)), 1_000);
  const limit = setTimeout(finish, config.timeLimitMs);
  await worker.start();
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  clearTimeout(limit);
  // Idle for a moment (fetch loop back to waiting), then a full GC: what the worker keeps.
  await sleep(1_000);
  collectGarbage();
  await sleep(200);
  emit('final', sample(t0, done));
  await worker.close();
  await contender.close();
  emit('done', { done, seconds, timedOut: done < config.total });
}

main().catch((error: unknown) => {
  process.stderr.write(`soak worker failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
