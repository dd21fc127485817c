import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  closeConnection,
  DataQueue,
  type DelayedLogger,
  encodeTask,
  HandlerRegistry,
  NodeTask,
  Queue,
  requeueLost,
  Scheduler,
  Sweeper,
  Worker,
} from '../lib/core/index.js';
import { newWorkerId } from '../lib/core/protocol/worker-id.js';
import { eventually, quietLogger, uniqueName, useRedisServer } from './helpers/redis-server.js';

// ACL SETUSER, SCRIPT FLUSH and ACL LOG RESET reach every client of the server: a private
// one, even under REDIS_URL.
const db = useRedisServer({ private: true });

// The users are made from the `ACL SETUSER` lines of docs/acl.md, as they are written there,
// so the page and this test cannot drift apart.
const PAGE = readFileSync(new URL('../../docs/acl.md', import.meta.url), 'utf8');

interface AclUser {
  readonly password: string;
  readonly rules: string[];
}

function documentedUsers(): Map<string, AclUser> {
  const users = new Map<string, AclUser>();
  for (const line of PAGE.split('\n')) {
    const match = /^ACL SETUSER (\S+) (.+)$/.exec(line.trim());
    if (match === null) continue;
    const [, name, rest] = match as unknown as [string, string, string];
    const rules = rest.split(/\s+/);
    const password = rules.find((rule) => rule.startsWith('>'))?.slice(1);
    assert.ok(password, `the page's line for ${name} sets a password`);
    assert.ok(!users.has(name), `the page has one line for ${name}`);
    users.set(name, { password, rules });
  }
  return users;
}

const USERS = documentedUsers();
/** The queue the page's rules are written for. */
const QUEUE = 'emails';
const KEYS = [QUEUE, `${QUEUE}_noti`, `${QUEUE}_processing`, `${QUEUE}_dead`];
const SCHEDULE_KEYS = ['_scheduled', '_schedules', '_schedule_ticks'].map(
  (suffix) => `${QUEUE}${suffix}`,
);

/** The rules the page tells a mixed fleet to add for Python's decimal worker ids. */
const PYTHON_ID_RULES = /`(~\[0-9\](?: ~(?:\[0-9\])+)+)`/.exec(PAGE)?.[1]?.split(' ');

async function createUsers(): Promise<void> {
  for (const [name, user] of USERS) await db.redis.call('ACL', 'SETUSER', name, ...user.rules);
}

function connectAs(name: string, errors: string[]): Redis {
  const redis = new Redis(db.server.url, { username: name, password: USERS.get(name)!.password });
  redis.on('error', (error: Error) => errors.push(`${name}: ${error.message}`));
  return redis;
}

function recordingLogger(lines: string[]): DelayedLogger {
  return {
    log: () => undefined,
    warn: (message) => lines.push(`warn ${message}`),
    error: (message) => lines.push(`error ${message}`),
  };
}

/**
 * What the server refused since the last ACL LOG RESET, as "user command-or-key". ioredis
 * sends CLIENT SETINFO on every connect and ignores its failure; Redis 6.2 logs that as
 * "client" and 7.2+ as "client|setinfo" (docs/acl.md, "Things to know"): those are left out.
 */
async function aclDenials(): Promise<string[]> {
  const entries = (await db.redis.call('ACL', 'LOG')) as unknown[][];
  return entries
    .map((entry) => {
      const fields = new Map<string, unknown>();
      for (let i = 0; i < entry.length; i += 2) fields.set(String(entry[i]), entry[i + 1]);
      return `${String(fields.get('username'))} ${String(fields.get('reason'))} ${String(fields.get('object'))}`;
    })
    .filter((denial) => !/ command client(\|setinfo)?$/.test(denial));
}

describe('the ACL users of docs/acl.md', () => {
  it('are the producer, the worker, the dead-letter tools and a data queue user', () => {
    assert.deepEqual(
      [...USERS.keys()],
      ['emails-producer', 'emails-scheduler', 'emails-worker', 'emails-ops', 'clicks-data'],
    );
    assert.ok(PYTHON_ID_RULES, 'the page gives the rules for Python worker ids');
  });

  it('let a producer, a worker with its sweeper and the dead-letter tools do all their work', async () => {
    await db.redis.del(...KEYS);
    await createUsers();
    // Every script's first call then goes through EVAL after a NOSCRIPT, later ones EVALSHA.
    await db.redis.call('SCRIPT', 'FLUSH');
    await db.redis.call('ACL', 'LOG', 'RESET');
    const lines: string[] = [];
    const logger = recordingLogger(lines);
    const connectionErrors: string[] = [];
    // ioredis prints a warning when its ready check (INFO) is refused.
    const consoleWarnings: string[] = [];
    const consoleWarn = console.warn;
    console.warn = (...args: unknown[]) => consoleWarnings.push(args.map(String).join(' '));
    const producer = connectAs('emails-producer', connectionErrors);
    const workerRedis = connectAs('emails-worker', connectionErrors);
    const ops = connectAs('emails-ops', connectionErrors);
    try {
      const queue = new Queue(producer, QUEUE);
      const served = new Queue(workerRedis, QUEUE);
      const sweeper = new Sweeper({ queues: [served], interval: 100, logger });

      // A worker died holding a task: the sweep reads its liveness key (EXISTS inside the
      // script), requeues the task and restores its notification (LPUSH).
      await db.redis.hset(
        `${QUEUE}_processing`,
        newWorkerId(),
        encodeTask(new NodeTask('Acl:send', ['lost'])),
      );
      assert.deepEqual((await sweeper.sweep()).get(QUEUE), {
        requeued: 1,
        notificationsAdded: 1,
        notificationsDropped: 0,
      });
      // Stray notifications are trimmed (LTRIM).
      await db.redis.rpush(`${QUEUE}_noti`, '1', '1');
      assert.deepEqual((await sweeper.sweep()).get(QUEUE), {
        requeued: 0,
        notificationsAdded: 0,
        notificationsDropped: 2,
      });

      const sent: string[] = [];
      let flakyRuns = 0;
      const handlers = new HandlerRegistry();
      handlers.register('Acl:send', async (tag: string) => {
        await sleep(60);
        sent.push(tag);
      });
      handlers.register('Acl:flaky', (tag: string) => {
        if (++flakyRuns === 1) throw new Error('first attempt fails');
        sent.push(tag);
      });
      const tags = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
      await queue.enqueue(new NodeTask('Acl:send', [tags[0]]));
      await queue.enqueueMany([
        ...tags.slice(1).map((tag) => new NodeTask('Acl:send', [tag])),
        new NodeTask('Acl:flaky', ['flaky'], {}, 1),
        ...['x', 'y', 'z'].map((tag) => new NodeTask('Acl:unknown', [tag])),
      ]);
      assert.equal(await queue.len(), 1 + tags.length + 1 + 3);

      // dequeueTimeout is long so that close() can only be quick if CLIENT UNBLOCK ends the
      // pending BLPOP; keepAliveTimeout is short so that the refreshes (SET PX) matter.
      const worker = new Worker({
        queues: [served],
        handlers,
        concurrency: 2,
        keepAliveInterval: 100,
        keepAliveTimeout: 1_000,
        dequeueTimeout: 10_000,
        logger,
      });
      await worker.start();
      sweeper.start();
      let closed = false;
      try {
        await eventually(() => sent.length === tags.length + 2, 10_000, 'every task to run');
        const deadLetters = new Queue(ops, QUEUE).deadLetters;
        await eventually(
          async () => (await deadLetters.count()) === 3,
          5_000,
          'three dead letters',
        );
        const letters = await deadLetters.list();
        assert.deepEqual(
          letters.map((letter) => [letter.reason, letter.funcPath]),
          Array.from({ length: 3 }, () => ['unknown-handler', 'Acl:unknown']),
        );
        // A handler for them shows up: one goes back to the queue and runs, one is removed,
        // the last one purged.
        handlers.register('Acl:unknown', (tag: string) => {
          sent.push(`late ${tag}`);
        });
        assert.equal(await deadLetters.requeue([letters[0]!]), 1);
        assert.equal(await deadLetters.remove([letters[1]!]), 1);
        assert.equal(await deadLetters.purge(), 1);
        await eventually(
          () => sent.some((tag) => tag.startsWith('late ')),
          5_000,
          'the requeued task',
        );
        await eventually(
          async () => (await db.redis.hlen(`${QUEUE}_processing`)) === 0,
          5_000,
          'every release',
        );

        // The ops user pauses the queue: the worker (EXISTS emails_paused in its dequeue)
        // takes nothing; the resume (DEL, PUBLISH on emails_wake) lets it run at once.
        const controls = new Queue(ops, QUEUE);
        assert.equal(await controls.pause(), true);
        assert.equal(await controls.isPaused(), true);
        await queue.enqueue(new NodeTask('Acl:send', ['after pause']));
        await sleep(300);
        assert.ok(!sent.includes('after pause'), 'nothing runs while paused');
        assert.equal(await controls.resume(), true);
        await eventually(() => sent.includes('after pause'), 3_000, 'the task after the resume');
        await eventually(
          async () => (await db.redis.hlen(`${QUEUE}_processing`)) === 0,
          5_000,
          'its release',
        );

        // Idle for longer than keepAliveTimeout with the sweeper running: the refreshed
        // liveness keys keep every slot alive.
        await sleep(1_500);
        const ids = worker.slotIds;
        assert.equal(await db.redis.exists(...ids), ids.length, 'every liveness key is refreshed');
        const closing = Date.now();
        await worker.close();
        closed = true;
        const closeTime = Date.now() - closing;
        assert.ok(closeTime < 3_000, `close() took ${closeTime} ms: the BLPOP was not unblocked`);
        assert.equal(await db.redis.exists(...ids), 0, 'close() deletes the liveness keys');
      } finally {
        if (!closed) await worker.close();
        await sweeper.stop();
      }

      // A stray notification on an empty queue is deleted (DEL inside the script).
      await db.redis.rpush(`${QUEUE}_noti`, '1');
      assert.deepEqual((await sweeper.sweep()).get(QUEUE), {
        requeued: 0,
        notificationsAdded: 0,
        notificationsDropped: 1,
      });
      assert.deepEqual(await db.redis.exists(...KEYS), 0);

      assert.deepEqual(
        [...sent].sort(),
        [
          ...tags,
          'flaky',
          'lost',
          'after pause',
          sent.find((tag) => tag.startsWith('late ')),
        ].sort(),
        'every task ran once, the flaky one after one retry, and one requeued dead letter',
      );
      assert.equal(flakyRuns, 2);
      assert.equal(sent.filter((tag) => tag.startsWith('late ')).length, 1);
      const retried =
        /^warn Task "Acl:flaky" failed, retrying 1 more time\(s\): first attempt fails$/;
      const buried =
        /^error Task "Acl:unknown" on queue "emails" moved to dead letters \(unknown-handler\)/;
      assert.deepEqual(
        lines.filter((line) => !retried.test(line) && !buried.test(line)),
        [],
        'nothing else was logged',
      );
      assert.equal(lines.filter((line) => retried.test(line)).length, 1);
      assert.equal(lines.filter((line) => buried.test(line)).length, 3);
      assert.deepEqual(connectionErrors, []);
      assert.deepEqual(consoleWarnings, []);
      assert.deepEqual(await aclDenials(), [], 'the server refused nothing');
    } finally {
      console.warn = consoleWarn;
      await Promise.all([producer, workerRedis, ops].map((redis) => closeConnection(redis)));
    }
  });

  it('let a scheduling producer schedule, cancel and manage schedules, and a worker run them with backoff', async () => {
    await db.redis.del(...KEYS, ...SCHEDULE_KEYS);
    await createUsers();
    await db.redis.call('SCRIPT', 'FLUSH');
    await db.redis.call('ACL', 'LOG', 'RESET');
    const lines: string[] = [];
    const logger = recordingLogger(lines);
    const errors: string[] = [];
    const scheduling = connectAs('emails-scheduler', errors);
    const workerRedis = connectAs('emails-worker', errors);
    try {
      const queue = new Queue(scheduling, QUEUE);
      const served = new Queue(workerRedis, QUEUE);
      const ran: string[] = [];
      let flaky = 0;
      const handlers = new HandlerRegistry();
      handlers.register('Acl:later', (tag: string) => void ran.push(tag));
      handlers.register('Acl:tick', () => void ran.push('tick'));
      handlers.register(
        'Acl:backoff',
        () => {
          if (++flaky === 1) throw new Error('first attempt fails');
          ran.push('backed off');
        },
        'Acl.backoff',
        undefined,
        { retry: 1, backoff: 50 },
      );
      const kept = await queue.schedule(new NodeTask('Acl:later', ['kept']), { delay: 100 });
      const dropped = await queue.schedule(new NodeTask('Acl:later', ['dropped']), { delay: 100 });
      await queue.schedule(new NodeTask('Acl:backoff', [], {}, 1), { delay: 0 });
      assert.equal(await queue.cancel(dropped), true);
      assert.equal(await queue.scheduledCount(), 2);
      assert.equal(
        await queue.schedules.set('beat', { every: 100 }, new NodeTask('Acl:tick')),
        'created',
      );
      assert.deepEqual(
        (await queue.schedules.list()).map((info) => info.name),
        ['beat'],
      );
      assert.equal((await queue.schedules.get('beat'))?.task.name, 'Acl:tick');

      const worker = new Worker({ queues: [served], handlers, dequeueTimeout: 200, logger });
      const scheduler = new Scheduler({ queues: [served], logger });
      await worker.start();
      scheduler.start();
      try {
        await eventually(
          () => ran.includes('kept') && ran.includes('backed off') && ran.includes('tick'),
          5_000,
          'the scheduled task, the backed-off retry and a tick',
        );
      } finally {
        await scheduler.stop();
        await worker.close();
      }
      assert.equal(kept.queue, QUEUE);
      assert.ok(!ran.includes('dropped'));
      assert.equal(await queue.schedules.remove('beat'), true);
      assert.deepEqual(
        lines.filter(
          (line) =>
            !/^warn Task "Acl:backoff" failed, retrying 1 more time\(s\) in 50 ms/.test(line),
        ),
        [],
      );
      assert.deepEqual(errors, []);
      assert.deepEqual(await aclDenials(), [], 'the server refused nothing');
    } finally {
      await Promise.all([scheduling, workerRedis].map((redis) => closeConnection(redis)));
      await db.redis.del(...KEYS, ...SCHEDULE_KEYS);
    }
  });

  it('let a scheduling producer without +publish still schedule (the wake-up is only a speed-up)', async () => {
    await db.redis.del(...SCHEDULE_KEYS);
    await createUsers();
    await db.redis.call('ACL', 'SETUSER', 'emails-scheduler', '-publish');
    const errors: string[] = [];
    const scheduling = connectAs('emails-scheduler', errors);
    try {
      const queue = new Queue(scheduling, QUEUE);
      const task = await queue.schedule(new NodeTask('Acl:later', ['x']), { delay: 60_000 });
      assert.equal(await queue.scheduledCount(), 1);
      assert.equal(await queue.cancel(task), true);
      assert.deepEqual(errors, []);
    } finally {
      await closeConnection(scheduling);
      await db.redis.del(...SCHEDULE_KEYS);
    }
  });

  it('let a data queue user put, wait for, lease, refresh, mark done, count and dead-letter items', async () => {
    const name = 'clicks';
    const keys = ['_dq', '_dq_items', '_dq_leases', '_dq_delayed', '_dq_dead'].map(
      (suffix) => `${name}${suffix}`,
    );
    await db.redis.del(...keys);
    await createUsers();
    await db.redis.call('SCRIPT', 'FLUSH');
    await db.redis.call('ACL', 'LOG', 'RESET');
    const errors: string[] = [];
    const redis = connectAs('clicks-data', errors);
    try {
      const queue = new DataQueue<string>(redis, name, { visibilityTimeout: 100 });
      const waiting = queue.get(2, { wait: 3_000, visibilityTimeout: 10_000 });
      await sleep(100);
      await queue.put(['a', 'b']);
      const batch = await waiting;
      assert.equal(batch.size, 2);
      assert.deepEqual(await queue.refresh(batch, { visibilityTimeout: 10_000 }), [
        ...batch.keys(),
      ]);
      assert.equal(await queue.done(batch), 2);
      await queue.put(['later'], { delay: 50 });
      await queue.put(['dies']);
      assert.deepEqual([...(await queue.peek(5)).values()], ['dies']);
      await queue.get(1);
      await sleep(150);
      await queue.sweep();
      assert.deepEqual(await queue.counts(), { available: 1, invisible: 0, delayed: 0, dead: 1 });
      const [letter] = await queue.deadLetters.list();
      assert.equal(letter!.item, 'dies');
      assert.equal(await queue.deadLetters.requeue(), 1);
      await queue.put(['x']);
      assert.equal((await queue.get(1, { done: [] })).size, 1);
      await queue.deleteAll();
      await queue.put(['y']);
      await queue.get(1);
      await sleep(150);
      await queue.sweep();
      assert.equal(await queue.deadLetters.remove(await queue.deadLetters.list()), 1);
      await queue.put(['z']);
      await queue.get(1);
      await sleep(150);
      await queue.sweep();
      assert.equal(await queue.deadLetters.purge(), 1);
      assert.deepEqual(await aclDenials(), []);
      assert.deepEqual(errors, []);
      await assert.rejects(redis.get('emails'), /NOPERM/);
    } finally {
      await closeConnection(redis);
      await db.redis.del(...keys);
    }
  });

  it('refuse what they leave out', async () => {
    await db.redis.del(...KEYS);
    await createUsers();
    const errors: string[] = [];
    const producer = connectAs('emails-producer', errors);
    const workerRedis = connectAs('emails-worker', errors);
    try {
      const other = uniqueName('other');
      await db.redis.set(other, 'x');
      // The producer reaches its two keys only, with its few commands only.
      await assert.rejects(producer.get(other), /NOPERM/);
      await assert.rejects(producer.rpush(`${QUEUE}_processing`, 'x'), /NOPERM/);
      await assert.rejects(producer.lrange(QUEUE, 0, -1), /NOPERM/);
      await assert.rejects(producer.del(QUEUE), /NOPERM/);
      await assert.rejects(producer.keys('*'), /NOPERM/);
      // It cannot sweep: the script's keys include N_processing.
      await assert.rejects(requeueLost(new Queue(producer, QUEUE)), /NOPERM/);

      // The worker reaches bare keys of exactly 32 lowercase hex characters, no others.
      const hex = '0123456789abcdef'.repeat(2);
      assert.equal(await workerRedis.set(hex, '1', 'PX', 1_000), 'OK');
      for (const key of [hex.toUpperCase(), hex.slice(1), `${hex}0`, `g${hex.slice(1)}`, other]) {
        await assert.rejects(workerRedis.set(key, '1'), /NOPERM/, key);
      }
      await assert.rejects(workerRedis.get(hex), /NOPERM/, 'GET is not granted');
      await assert.rejects(workerRedis.flushall(), /NOPERM/);

      // A Python worker's decimal id is outside the pattern: sweeps fail until the page's
      // rules for Python ids are added.
      await db.redis.hset(
        `${QUEUE}_processing`,
        '21681',
        encodeTask(new NodeTask('Acl:send', ['py'])),
      );
      const sweeper = new Sweeper({ queues: [new Queue(workerRedis, QUEUE)], logger: quietLogger });
      await assert.rejects(
        sweeper.sweep(),
        /access at least one of the keys|permissions to access a key/,
      );
      await db.redis.call('ACL', 'SETUSER', 'emails-worker', ...PYTHON_ID_RULES!);
      assert.deepEqual((await sweeper.sweep()).get(QUEUE), {
        requeued: 1,
        notificationsAdded: 1,
        notificationsDropped: 0,
      });
      assert.deepEqual(errors, []);
    } finally {
      await Promise.all([producer, workerRedis].map((redis) => closeConnection(redis)));
      await db.redis.del(...KEYS);
    }
  });
});
