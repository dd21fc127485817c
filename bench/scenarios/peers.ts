import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { PyTask, Queue } from '../../lib/core/index.js';
import { pythonPeer } from '../paths.js';
import { runPythonDriver } from '../peers/python-driver.js';
import type { BenchRedis } from '../redis-server.js';
import { median, perSecond } from '../stats.js';

/**
 * The family picture: the other delayed workers draining the same kind of tasks on the same
 * Redis. Python's worker runs one task at a time, so it compares with our concurrency 1.
 */
export interface PeerResult {
  readonly peer: string;
  readonly available: boolean;
  /** Why the row is empty, when it is. */
  readonly reason?: string;
  readonly version?: string;
  readonly concurrency?: number;
  readonly count?: number;
  /** tasks/s per measured run. */
  readonly runs?: number[];
  readonly median?: number;
}

const PY_QUEUE = 'bench-py';
const PY_TASK = 'bench_tasks:noop';
const PY_TIME_LIMIT_S = 300;

export const GO_PEER: PeerResult = {
  peer: 'Go go-delayed worker',
  available: false,
  reason:
    'not installable here: the Go module proxy refuses go-delayed (403 for github.com/yizhisec/go-delayed ' +
    'and github.com/keakon/go-delayed, see test/interop/PEERS.md)',
};

export async function pythonPeerVersion(): Promise<{ version: string } | { reason: string }> {
  if (!existsSync(pythonPeer)) {
    return { reason: 'test/interop/python/.venv is absent (run test/interop/setup.sh python)' };
  }
  try {
    const { stdout } = await promisify(execFile)(
      pythonPeer,
      ['-c', 'import delayed; print(delayed.__version__)'],
      {
        timeout: 30_000,
      },
    );
    return { version: stdout.trim() };
  } catch (error) {
    return { reason: `the venv cannot import delayed: ${(error as Error).message.split('\n')[0]}` };
  }
}

export async function pythonPeerDrain(
  redis: BenchRedis,
  count: number,
  repeats: number,
  log: (line: string) => void,
): Promise<PeerResult> {
  const peer = 'Python delayed worker';
  const probe = await pythonPeerVersion();
  if ('reason' in probe) return { peer, available: false, reason: probe.reason };

  const producer = new Redis(redis.url);
  try {
    const queue = new Queue(producer, PY_QUEUE);
    const runOnce = async (n: number): Promise<number> => {
      await redis.flushAll();
      for (let from = 0; from < n; from += 1_000) {
        const chunk: PyTask[] = [];
        for (let i = from; i < Math.min(n, from + 1_000); i++) chunk.push(new PyTask(PY_TASK, [i]));
        await queue.enqueueMany(chunk);
      }
      const seconds = await runPythonWorker(redis.url, n);
      const left = await producer.exists(PY_QUEUE, `${PY_QUEUE}_noti`, `${PY_QUEUE}_processing`);
      if (left !== 0) throw new Error(`The Python worker left ${left} queue key(s) behind`);
      return perSecond(n, seconds * 1000);
    };
    await runOnce(Math.min(count, 500)); // warm-up, discarded
    const runs: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const rate = await runOnce(count);
      log(
        `  peers: Python delayed worker run ${r + 1}/${repeats}: ${Math.round(rate).toLocaleString('en-US')} tasks/s`,
      );
      runs.push(rate);
    }
    return {
      peer,
      available: true,
      version: probe.version,
      concurrency: 1,
      count,
      runs,
      median: median(runs),
    };
  } finally {
    producer.disconnect();
  }
}

/** Runs bench/peers/delayed_drain.py; resolves with the seconds it measured. */
async function runPythonWorker(url: string, count: number): Promise<number> {
  const { code, done, stderr } = await runPythonDriver<{
    event: string;
    count?: number;
    seconds?: number | null;
  }>(
    'delayed_drain.py',
    ['--redis', url, '--queue', PY_QUEUE, '--count', String(count)],
    PY_TIME_LIMIT_S,
  );
  if (code !== 0 || !done || typeof done.seconds !== 'number' || done.count !== count) {
    throw new Error(`The Python worker failed (exit ${code}): ${JSON.stringify(done)}\n${stderr}`);
  }
  return done.seconds;
}
