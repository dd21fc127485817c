import { setTimeout as sleep } from 'node:timers/promises';
import { createContender } from './contenders/index.js';
import { collectGarbage } from './gc.js';
import { type SoakSample, type SoakWorkerConfig, WARM_SHARE } from './scenarios/soak-protocol.js';

/**
 * The worker side of the RSS soak, in a process of its own so that its RSS is the worker's
 * alone (the producer lives in the bench process). Prints JSON lines on stdout:
 * ready, a sample every 500 ms, warm (once 5 % of the tasks are done, right after a full GC),
 * final (idle, after a full GC), done.
 * Usage: node soak-worker.js '{"contender":"ours","host":"127.0.0.1","port":1234,"total":1000000,"timeLimitMs":240000}'
 */
function emit(type: string, fields: object): void {
  process.stdout.write(`${JSON.stringify({ type, ...fields })}\n`);
}

function sample(t0: number, done: number): SoakSample {
  const usage = process.memoryUsage();
  return { t: (performance.now() - t0) / 1000, done, rss: usage.rss, heapUsed: usage.heapUsed };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as SoakWorkerConfig;
  let t0 = performance.now();
  const contender = createContender(config.contender, config.host, config.port);
  await contender.open();
  let done = 0;
  const warmAt = Math.max(1, Math.ceil(config.total * WARM_SHARE));
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const worker = await contender.worker({
    concurrency: config.concurrency,
    onCompleted: () => {
      if (++done === config.total) finish();
      if (done === warmAt) {
        setImmediate(() => {
          collectGarbage();
          emit('warm', sample(t0, done));
        });
      }
    },
  });
  collectGarbage();
  t0 = performance.now();
  emit('ready', sample(t0, 0));
  const sampler = setInterval(() => emit('sample', sample(t0, done)), 500);
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
