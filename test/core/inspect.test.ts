import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  encodeTask,
  findQueues,
  GoTask,
  HandlerRegistry,
  InvalidOptionsError,
  NodeTask,
  PyTask,
  Queue,
  QueueInspector,
  Worker,
} from '../../lib/core/index.js';
import { encodeDeadLetter } from '../../lib/core/queue/dead-letters.js';
import { eventually, quietLogger, useRedisServer, uniqueName } from '../helpers/redis-server.js';

const db = useRedisServer();

describe('QueueInspector', () => {
  it('reads every count at one instant, lateness included', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const inspector = new QueueInspector(queue);
    assert.deepEqual(
      { ...(await inspector.counts()), at: 0 },
      {
        queue: queue.name,
        waiting: 0,
        running: 0,
        scheduled: 0,
        dead: 0,
        schedules: 0,
        paused: false,
        lateness: 0,
        nextDueAt: null,
        at: 0,
      },
    );
    await queue.enqueueMany([new PyTask('m:a'), new PyTask('m:b')]);
    const later = await queue.schedule(new PyTask('m:c'), { delay: 60_000 });
    // A scheduled task nobody moved in: due 5 s ago.
    const overdue = await queue.schedule(new PyTask('m:d'), { at: Date.now() - 5_000 });
    await db.redis.hset(queue.keys.processing, 'w1', encodeTask(new PyTask('m:e')));
    await db.redis.rpush(queue.keys.dead, 'x');
    await db.redis.set(queue.keys.paused, '1');
    await queue.schedules.set('tick', { every: 60_000 }, new PyTask('m:f'));
    const counts = await inspector.counts();
    assert.equal(counts.waiting, 2);
    assert.equal(counts.running, 1);
    assert.equal(counts.scheduled, 2);
    assert.equal(counts.dead, 1);
    assert.equal(counts.schedules, 1);
    assert.equal(counts.paused, true);
    assert.equal(counts.nextDueAt, overdue.dueAt);
    assert.ok(counts.lateness >= 4_900 && counts.lateness < 30_000, String(counts.lateness));
    assert.ok(later.dueAt > counts.at);
  });

  it('pages waiting and scheduled tasks by index, summarised', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const inspector = new QueueInspector(queue);
    await queue.enqueueMany(Array.from({ length: 120 }, (_, i) => new NodeTask('T:run', [i])));
    await queue.enqueue(new GoTask('main.Send', ['x']));
    await db.redis.rpush(queue.keys.tasks, Buffer.from([0xc1]));
    const first = await inspector.waiting(0, 50);
    assert.equal(first.length, 50);
    assert.deepEqual(first[0]!.args, [0]);
    assert.equal(first[0]!.name, 'T:run');
    assert.equal(first[0]!.kind, 'py');
    const tail = await inspector.waiting(120, 50);
    assert.deepEqual(
      tail.map((task) => [task.kind, task.name]),
      [
        ['go', 'main.Send'],
        ['unreadable', null],
      ],
    );
    assert.match(tail[1]!.problem!, /./);

    const at = Date.now() + 3_600_000;
    const scheduled = await queue.scheduleMany(
      Array.from({ length: 30 }, (_, i) => new PyTask('m:s', [i])),
      { at },
    );
    const page = await inspector.scheduled(10, 5);
    assert.deepEqual(
      page.map((entry) => entry.id),
      scheduled.slice(10, 15).map((task) => task.id),
    );
    assert.equal(page[0]!.dueAt, at);
    assert.deepEqual(page[0]!.task.args, [10]);
    // The id is what cancel takes.
    assert.equal(await queue.cancel(page[0]!.id), true);
  });

  it('lists running tasks with their slot liveness, page by page', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const inspector = new QueueInspector(queue);
    for (let i = 0; i < 30; i++) {
      await db.redis.hset(
        queue.keys.processing,
        `${queue.name}-w${i}`,
        encodeTask(new PyTask('m:r', [i])),
      );
      if (i % 2 === 0) await db.redis.set(`${queue.name}-w${i}`, '1', 'PX', 60_000);
    }
    const seen = new Map<string, boolean>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await inspector.running(cursor, 10);
      for (const item of page.items) {
        seen.set(item.workerId, item.alive);
        if (item.alive) assert.ok(item.expiresIn! > 0 && item.expiresIn! <= 60_000);
        else assert.equal(item.expiresIn, null);
      }
      cursor = page.next;
      pages++;
    } while (cursor !== null && pages < 100);
    assert.equal(seen.size, 30);
    for (let i = 0; i < 30; i++) assert.equal(seen.get(`${queue.name}-w${i}`), i % 2 === 0);
  });

  it('sees a live worker hold a task while it runs', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handlers = new HandlerRegistry();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    handlers.register('T:hold', () => held);
    const worker = new Worker({ queues: [queue], handlers, logger: quietLogger });
    await worker.start();
    try {
      await queue.enqueue(new NodeTask('T:hold', ['x']));
      const inspector = new QueueInspector(queue);
      const page = (await eventually(async () => {
        const found = await inspector.running();
        return found.items.length === 1 ? found : undefined;
      }))!;
      assert.equal(page.items[0]!.alive, true);
      assert.ok(worker.slotIds.includes(page.items[0]!.workerId));
      assert.deepEqual(page.items[0]!.task.args, ['x']);
    } finally {
      release();
      await worker.close();
    }
  });

  it('refuses pages it cannot read, with the bounds in the message', async () => {
    const inspector = new QueueInspector(new Queue(db.redis, uniqueName()));
    await assert.rejects(() => inspector.waiting(0, 0), InvalidOptionsError);
    await assert.rejects(() => inspector.waiting(-1, 10), /offset must be/);
    await assert.rejects(
      () => inspector.scheduled(0, 5_000),
      /limit must be a whole number from 1 to 1000/,
    );
  });
});

describe('findQueues', () => {
  it('finds queues by their own keys, not by lookalikes', async () => {
    const prefix = uniqueName('find');
    const busy = new Queue(db.redis, `${prefix}-busy`);
    await busy.enqueue(new PyTask('m:f'));
    const later = new Queue(db.redis, `${prefix}-later`);
    await later.schedule(new PyTask('m:f'), { delay: 60_000 });
    // Lookalikes: a string named like a notification list, and a dead-letter list alone.
    await db.redis.set(`${prefix}-fake_noti`, 'x');
    await db.redis.rpush(`${prefix}-gone_dead`, 'x');
    // The task list of a queue named "…-other_dead" is not the dead letters of "…-other".
    await new Queue(db.redis, `${prefix}-other_dead`).enqueue(new PyTask('m:f'));
    // A queue whose only key is its dead-letter list, written as a worker writes it.
    const failed = new Queue(db.redis, `${prefix}-failed`);
    const letter = {
      task: encodeTask(new PyTask('m:f')),
      reason: 'failed' as const,
      error: 'e',
      funcPath: 'm:f',
    };
    await db.redis.rpush(failed.keys.dead, encodeDeadLetter(failed.name, letter));
    const found = (await findQueues(db.redis)).filter((name) => name.startsWith(prefix));
    assert.deepEqual(found, [
      `${prefix}-busy`,
      `${prefix}-failed`,
      `${prefix}-later`,
      `${prefix}-other_dead`,
    ]);
  });
});
