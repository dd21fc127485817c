import { execFileSync } from 'node:child_process';
import { cpus, platform } from 'node:os';

/**
 * CPU placement. On a small machine the scheduler sometimes puts Redis and the bench on one
 * core and sometimes on two, and a request/reply ping-pong costs very different amounts in
 * the two cases (a cross-core wake-up is dear in a VM), so unpinned runs flip between two
 * modes. Pinning makes runs repeatable: Redis gets the last core, the bench (and every
 * process it starts: workers, the Python peer, redis-benchmark) the others. Separate cores
 * is also the placement closer to production, where Redis is on another host.
 */
export interface Placement {
  readonly pinned: boolean;
  readonly description: string;
  /** Prefix for spawning redis-server: ['taskset', '-c', '1'] or []. */
  readonly redisPrefix: readonly string[];
  /** The CPU Redis is pinned to, when pinned (the cluster group puts its nodes there too). */
  readonly redisCpu?: number;
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function planPlacement(pin: boolean): Placement {
  const cores = cpus().length;
  if (!pin) return { pinned: false, description: 'not pinned (--no-pin)', redisPrefix: [] };
  if (platform() !== 'linux' || cores < 2 || !hasTaskset()) {
    return {
      pinned: false,
      description: 'not pinned (needs Linux, taskset and 2+ cores)',
      redisPrefix: [],
    };
  }
  const redisCpu = cores - 1;
  const benchCpus = redisCpu === 1 ? '0' : `0-${redisCpu - 1}`;
  // -a: every thread of this process (V8's and libuv's too); children inherit it.
  execFileSync('taskset', ['-a', '-c', '-p', benchCpus, String(process.pid)], { stdio: 'ignore' });
  return {
    pinned: true,
    description: `redis-server on CPU ${redisCpu}, the bench and its child processes on CPU ${benchCpus} (taskset)`,
    redisPrefix: ['taskset', '-c', String(redisCpu)],
    redisCpu,
  };
}
