import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeTask } from '../../lib/core/index.js';
import { type Spawned, spawnProcess } from '../helpers/processes.js';
import { uniqueName, useRedisServer } from '../helpers/redis-server.js';

const db = useRedisServer();

const SCHEDULE_APP = fileURLToPath(new URL('../fixtures/schedule-app.js', import.meta.url));
const EVERY = 1_000;

/** The tick times enqueued on a queue, in order. */
async function ticksOf(queue: string): Promise<number[]> {
  const tasks = await db.redis.lrangeBuffer(queue, 0, -1);
  return tasks.map((bytes) => {
    const task = decodeTask(bytes);
    return task.kind === 'py' ? (task.args.at(-1) as number) : NaN;
  });
}

/** The ticks missing between the first and the last, and the ones enqueued twice. */
function gapsAndTwins(ticks: number[]): { missing: number[]; twice: number[] } {
  const seen = new Set<number>();
  const twice = ticks.filter((tick) => seen.has(tick) || !seen.add(tick));
  const sorted = [...seen].sort((a, b) => a - b);
  const missing: number[] = [];
  for (let tick = sorted[0]!; tick <= sorted.at(-1)!; tick += EVERY) {
    if (!seen.has(tick)) missing.push(tick);
  }
  return { missing, twice };
}

describe('a 1 s schedule fired by 5 app instances SIGKILLed and restarted at random', () => {
  it('enqueues each tick exactly once; after a full outage neverSkip misses none, the other skips', async () => {
    const env = {
      REDIS_URL: db.server.url,
      CATCH_UP_QUEUE: uniqueName('catch-up'),
      SKIP_QUEUE: uniqueName('skip'),
      EVERY: String(EVERY),
    };
    const start = async (): Promise<Spawned> => {
      const instance = spawnProcess(process.execPath, [SCHEDULE_APP], env);
      await instance.waitForLine(/^ready/);
      return instance;
    };
    const instances = await Promise.all([0, 1, 2, 3, 4].map(() => start()));
    let kills = 0;
    try {
      // 60 ticks while one instance after another is killed at a random instant and replaced.
      const until = Date.now() + 60 * EVERY;
      while (Date.now() < until) {
        await sleep(200 + Math.floor(Math.random() * 1_300));
        const victim = instances.splice(Math.floor(Math.random() * instances.length), 1)[0]!;
        victim.child.kill('SIGKILL');
        await victim.exited;
        kills++;
        instances.push(await start());
      }
      for (const queue of [env.CATCH_UP_QUEUE, env.SKIP_QUEUE]) {
        const ticks = await ticksOf(queue);
        assert.ok(ticks.length >= 58, `${queue}: ${ticks.length} ticks in 60 s`);
        assert.deepEqual(
          gapsAndTwins(ticks),
          { missing: [], twice: [] },
          `${queue}, ${kills} kills`,
        );
      }

      // A full outage: every instance killed for 4.5 s, then two come back.
      const before = {
        catchUp: (await ticksOf(env.CATCH_UP_QUEUE)).length,
        skip: (await ticksOf(env.SKIP_QUEUE)).length,
      };
      for (const instance of instances.splice(0)) {
        instance.child.kill('SIGKILL');
        await instance.exited;
      }
      const outage = Date.now();
      await sleep(4_500);
      // The outage ends when the first instance is back, however long it takes to boot.
      let restart = Infinity;
      const back = () =>
        start().then((instance) => ((restart = Math.min(restart, Date.now())), instance));
      instances.push(...(await Promise.all([back(), back()])));
      await sleep(2_500);

      const caughtUp = await ticksOf(env.CATCH_UP_QUEUE);
      assert.deepEqual(
        gapsAndTwins(caughtUp),
        { missing: [], twice: [] },
        'neverSkip: none missed',
      );
      assert.ok(caughtUp.at(-1)! > restart, 'and it goes on after the restart');

      const skipped = await ticksOf(env.SKIP_QUEUE);
      const { missing, twice } = gapsAndTwins(skipped);
      assert.deepEqual(twice, [], 'none twice');
      assert.ok(missing.length >= 2, `ticks of the outage skipped (${missing.length} missing)`);
      for (const tick of missing) {
        assert.ok(
          tick > outage - EVERY && tick < restart,
          `only outage ticks are missing (${tick})`,
        );
      }
      assert.ok(skipped.length - before.skip < caughtUp.length - before.catchUp);
    } finally {
      for (const instance of instances) instance.child.kill('SIGKILL');
      await Promise.all(instances.map((instance) => instance.exited));
    }
  });
});
