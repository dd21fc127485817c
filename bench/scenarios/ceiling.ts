import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { BenchRedis } from '../redis-server.js';

const run = promisify(execFile);
const REDIS_BENCHMARK = process.env.REDIS_BENCHMARK ?? 'redis-benchmark';

/** What Redis itself can do on this machine: the ceiling under both contenders. */
export interface CeilingResult {
  readonly command: string;
  readonly pipeline: number;
  readonly requests: number;
  /** Command name (SET, LPUSH, LPOP) -> requests per second. */
  readonly opsPerSecond: Record<string, number>;
}

/** Why the ceiling cannot be measured here, or undefined when redis-benchmark runs. */
export async function ceilingUnavailable(): Promise<string | undefined> {
  try {
    await run(REDIS_BENCHMARK, ['--version'], { timeout: 10_000 });
    return undefined;
  } catch (error) {
    return `${REDIS_BENCHMARK} cannot be run (${(error as Error).message.split('\n')[0]}); install redis-tools or set REDIS_BENCHMARK`;
  }
}

export async function redisCeiling(
  redis: BenchRedis,
  requests: number,
  pipeline: number,
): Promise<CeilingResult> {
  const args = [
    '-h',
    redis.host,
    '-p',
    String(redis.port),
    '-q',
    '-t',
    'set,lpush,lpop',
    '-n',
    String(requests),
  ];
  if (pipeline > 1) args.push('-P', String(pipeline));
  const { stdout } = await run(REDIS_BENCHMARK, args, {
    timeout: 300_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  await redis.flushAll();
  return {
    command: `redis-benchmark ${args.join(' ')}`,
    pipeline,
    requests,
    opsPerSecond: parseRedisBenchmark(stdout),
  };
}

/**
 * `redis-benchmark -q` prints one line per test, e.g.
 * `SET: 1234567.89 requests per second, p50=0.327 msec`, after progress lines that end in
 * carriage returns; only the final lines are read.
 */
export function parseRedisBenchmark(stdout: string): Record<string, number> {
  const result: Record<string, number> = {};
  for (const line of stdout.split(/[\r\n]+/)) {
    const match = /^\s*([A-Z][A-Z0-9 _-]*?):\s+([\d.]+)\s+requests per second/.exec(line);
    if (match) result[match[1]!.trim()] = Number(match[2]);
  }
  if (Object.keys(result).length === 0)
    throw new Error(`Could not read redis-benchmark output:\n${stdout}`);
  return result;
}
