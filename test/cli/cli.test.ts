import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  decodeTask,
  encodeTask,
  HandlerRegistry,
  NodeTask,
  PyTask,
  Queue,
  type ScheduledTask,
  Worker,
} from '../../lib/core/index.js';
import {
  assertUsageError,
  CLI_MAIN as MAIN,
  runCli as cli,
  tableRow as row,
} from '../helpers/cli.js';
import { freePort } from '../helpers/redis-server.js';
import { eventually, quietLogger, uniqueName, useRedisServer } from '../helpers/redis-server.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const db = useRedisServer();

/** `--url` plus `args`, expecting exit code 0 and JSON on stdout. */
async function json<T = Record<string, unknown>>(...args: string[]): Promise<T> {
  const run = await cli(['--url', db.server.url, '--json', ...args]);
  assert.equal(run.code, 0, `exit code of ${args.join(' ')}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

async function text(...args: string[]): Promise<string> {
  const run = await cli(['--url', db.server.url, ...args]);
  assert.equal(run.code, 0, `exit code of ${args.join(' ')}: ${run.stderr}`);
  assert.equal(run.stderr, '');
  return run.stdout;
}

describe('the nestjs-delayed command', () => {
  // One queue with something of everything, served by a worker whose only slot is held.
  let main: Queue;
  // Dead letters only (requeue --all), and a queue whose key has the wrong type.
  let other: Queue;
  let worker: Worker;
  let release: () => void = () => undefined;
  let scheduled: ScheduledTask[];

  before(async () => {
    assert.ok(existsSync(MAIN), `${MAIN} is missing: run npm run build first`);
    main = new Queue(db.redis, uniqueName('cli'));
    other = new Queue(db.redis, uniqueName('cli'));
    const handlers = new HandlerRegistry();
    handlers.register('T:fail', (n: unknown) => {
      throw new Error(`failure number ${String(n)}`);
    });
    const held = new Promise<void>((resolve) => (release = resolve));
    handlers.register('T:hold', () => held);
    worker = new Worker({ queues: [main, other], handlers, logger: quietLogger, concurrency: 1 });
    await worker.start();
    // Dead letters written by the real worker: 3 on each queue.
    await main.enqueueMany([0, 1, 2].map((i) => new NodeTask('T:fail', [i])));
    await other.enqueueMany([0, 1, 2].map((i) => new NodeTask('T:fail', [i])));
    await eventually(
      async () => (await main.deadLetters.count()) === 3 && (await other.deadLetters.count()) === 3,
      10_000,
      'six dead letters',
    );
    // The worker's one slot holds this task from now on, so what follows stays waiting.
    await main.enqueue(new NodeTask('T:hold', ['held']));
    await eventually(async () => (await main.processingCount()) === 1, 10_000, 'the held task');
    await main.enqueueMany([0, 1, 2].map((i) => new NodeTask('T:wait', [i, 'x'.repeat(100)])));
    // A task held by a worker id without a liveness key: its worker died.
    await db.redis.hset(
      main.keys.processing,
      `${main.name}-gone`,
      encodeTask(new PyTask('m:orphan', [7])),
    );
    scheduled = await main.scheduleMany(
      [new PyTask('m:later', ['a']), new PyTask('m:later', ['b'])],
      { delay: 3_600_000 },
    );
    await main.schedules.set('yearly', { cron: '0 3 1 1 *' }, new PyTask('m:yearly', [1]));
  });

  after(async () => {
    release();
    await worker?.close();
  });

  it('prints help for the tool and for each command, and its version', async () => {
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    for (const command of [
      'stats',
      'running',
      'waiting',
      'scheduled',
      'cancel',
      'dead list',
      'dead purge',
      'schedules',
      'pause',
      'resume',
    ]) {
      assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'), command);
    }
    const requeue = await cli(['dead', 'requeue', '--help']);
    assert.equal(requeue.code, 0);
    assert.match(requeue.stdout, /Usage: nestjs-delayed dead requeue <queue>/);
    assert.match(requeue.stdout, /--all/);
    const group = await cli(['help', 'dead']);
    assert.match(group.stdout, /dead remove <queue>/);
    const version = await cli(['--version']);
    const manifest = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string };
    assert.equal(version.stdout.trim(), manifest.version);
  });

  it('stats: every count of a queue, as JSON and as a table', async () => {
    const { queues } = await json<{ queues: Record<string, unknown>[] }>('stats', main.name);
    assert.equal(queues.length, 1);
    const { at, nextDueAt, ...counts } = queues[0]!;
    assert.deepEqual(counts, {
      queue: main.name,
      waiting: 3,
      running: 2,
      scheduled: 2,
      dead: 3,
      schedules: 1,
      paused: false,
      lateness: 0,
    });
    assert.equal(nextDueAt, scheduled[0]!.dueAt);
    assert.equal(typeof at, 'number');

    const table = await text('stats', main.name, other.name);
    assert.deepEqual(table.split('\n')[0]!.split(/\s+/), [
      'QUEUE',
      'WAITING',
      'RUNNING',
      'SCHEDULED',
      'DEAD',
      'SCHEDULES',
      'PAUSED',
      'LATENESS',
      'NEXT',
      'DUE',
    ]);
    assert.deepEqual(row(table, main.name).slice(0, 8), [
      main.name,
      '3',
      '2',
      '2',
      '3',
      '1',
      'no',
      '-',
    ]);
    assert.match(row(table, main.name)[8]!, /^in 59m/);
    assert.deepEqual(row(table, other.name).slice(0, 7), [
      other.name,
      '0',
      '0',
      '0',
      '3',
      '0',
      'no',
    ]);
  });

  it('stats without names finds the queues in Redis; REDIS_URL is the default --url', async () => {
    const run = await cli(['stats', '--json'], { REDIS_URL: db.server.url });
    assert.equal(run.code, 0, run.stderr);
    const names = (JSON.parse(run.stdout) as { queues: { queue: string }[] }).queues.map(
      (q) => q.queue,
    );
    assert.ok(names.includes(main.name), names.join());
    // Its only keys are dead letters now: still found.
    assert.ok(names.includes(other.name), names.join());
  });

  it('running: each task with its worker id and liveness', async () => {
    const { items, next } = await json<{
      items: {
        workerId: string;
        alive: boolean;
        expiresIn: number | null;
        task: { name: string; args: unknown[] };
      }[];
      next: string | null;
    }>('running', main.name);
    assert.equal(next, null);
    const held = items.find((item) => item.task.name === 'T:hold')!;
    assert.equal(held.alive, true);
    assert.ok(worker.slotIds.includes(held.workerId));
    assert.ok(held.expiresIn! > 0);
    const orphan = items.find((item) => item.task.name === 'm:orphan')!;
    assert.deepEqual(
      { ...orphan, task: orphan.task.args },
      { workerId: `${main.name}-gone`, alive: false, expiresIn: null, task: [7] },
    );
    const table = await text('running', main.name);
    assert.deepEqual(row(table, `${main.name}-gone`).slice(1), ['NO', '-', 'm:orphan', '[7]']);
    assert.equal(row(table, held.workerId)[1], 'yes');
    assert.match(table, /1 of these 2 held by a dead worker/);
  });

  it('waiting: a page of waiting tasks with their index and a cut preview', async () => {
    const page = await json<{
      total: number;
      offset: number;
      items: { index: number; task: { args: unknown[] } }[];
    }>('waiting', main.name, '--offset', '1', '--limit', '1');
    assert.equal(page.total, 3);
    assert.deepEqual(
      page.items.map((item) => [item.index, item.task.args[0]]),
      [[1, 1]],
    );
    const table = await text('waiting', main.name);
    const cells = row(table, '2');
    assert.equal(cells[1], 'T:wait');
    assert.ok(cells[2]!.startsWith('[2,"xxx') && cells[2]!.endsWith('…'), cells[2]);
    assert.match(table, /Waiting tasks 1-3 of 3\./);
    assert.match(
      await text('waiting', main.name, '--limit', '2'),
      /Waiting tasks 1-2 of 3\. Next page: --offset 2/,
    );
  });

  it('scheduled and cancel: ids as cancel takes them; a second cancel fails', async () => {
    const page = await json<{
      total: number;
      items: { id: string; dueAt: number; task: { args: unknown[] } }[];
    }>('scheduled', main.name);
    assert.equal(page.total, 2);
    assert.deepEqual(
      page.items.map((item) => [item.id, item.dueAt, item.task.args]),
      scheduled.map((task, i) => [task.id, task.dueAt, [['a', 'b'][i]]]),
    );
    const table = await text('scheduled', main.name);
    const cells = row(table, scheduled[1]!.id);
    assert.equal(cells[1], new Date(scheduled[1]!.dueAt).toISOString());
    assert.match(cells[2]!, /^in 59m/);

    const gone = scheduled[1]!.id;
    assert.deepEqual(await json('cancel', main.name, gone), {
      queue: main.name,
      id: gone,
      cancelled: true,
    });
    assert.equal(await main.scheduledCount(), 1);
    const again = await cli(['--url', db.server.url, 'cancel', main.name, gone]);
    assert.equal(again.code, 1);
    assert.equal(again.stdout, '');
    assert.match(again.stderr, /is not scheduled/);
    assertUsageError(await cli(['--url', db.server.url, 'cancel', main.name, 'nope']), /32 hex/);
    assert.equal(await main.scheduledCount(), 1);
  });

  it('schedules: name, timing, next tick, task', async () => {
    const { items } = await json<{ items: Record<string, unknown>[] }>('schedules', main.name);
    assert.equal(items.length, 1);
    assert.deepEqual(
      { ...items[0], nextTick: typeof items[0]!['nextTick'] },
      {
        name: 'yearly',
        queue: main.name,
        timing: { cron: '0 3 1 1 *', timeZone: 'UTC' },
        neverSkip: false,
        tickArg: false,
        declared: false,
        task: { name: 'm:yearly', args: [1] },
        nextTick: 'number',
      },
    );
    const cells = row(await text('schedules', main.name), 'yearly');
    assert.equal(cells[1], 'cron 0 3 1 1 * (UTC)');
    assert.match(cells[2]!, /^\d{4}-01-01T03:00:00\.000Z$/);
    assert.deepEqual(cells.slice(4), ['m:yearly', '[1]', 'no']);
  });

  it('dead list, remove, requeue and purge change exactly what they say', async () => {
    const list = await json<{
      total: number;
      items: {
        index: number;
        reason: string;
        error: string;
        funcPath: string;
        task: { args: unknown[] };
        taskBase64: string;
      }[];
    }>('dead', 'list', main.name);
    assert.equal(list.total, 3);
    assert.deepEqual(
      list.items.map((item) => [
        item.index,
        item.reason,
        item.error,
        item.funcPath,
        item.task.args,
      ]),
      [0, 1, 2].map((i) => [i, 'failed', `failure number ${i}`, 'T:fail', [i]]),
    );
    // The task's bytes travel as base64, exactly as they were in the queue.
    const bytes = Buffer.from(list.items[2]!.taskBase64, 'base64');
    assert.deepEqual((await main.deadLetters.list(2, 1))[0]!.task, bytes);
    const table = await text('dead', 'list', main.name);
    assert.deepEqual(row(table, '1').slice(2), ['failed', 'T:fail', '[1]', 'failure number 1']);

    const letterArgs = async (queue: Queue) =>
      (await queue.deadLetters.list(0, 100)).map(
        (letter) => (decodeTask(letter.task) as { args: unknown[] }).args[0],
      );

    // remove: the letter at index 1, and only it.
    assert.deepEqual(await json('dead', 'remove', main.name, '--offset', '1', '--limit', '1'), {
      queue: main.name,
      selected: 1,
      removed: 1,
    });
    assert.deepEqual(await letterArgs(main), [0, 2]);

    // requeue one: [2] goes back to the tail of the queue, as it was.
    const waitingBefore = await main.len();
    assert.match(
      await text('dead', 'requeue', main.name, '--offset', '1', '--limit', '1'),
      /^Requeued 1 dead letter into/,
    );
    assert.deepEqual(await letterArgs(main), [0]);
    assert.equal(await main.len(), waitingBefore + 1);
    const tail = await db.redis.lindexBuffer(main.name, -1);
    assert.deepEqual(tail, bytes);

    // requeue --all on the other queue: all three back, in order.
    assert.deepEqual(await json('dead', 'requeue', other.name, '--all'), {
      queue: other.name,
      selected: 3,
      requeued: 3,
    });
    assert.equal(await other.deadLetters.count(), 0);
    const requeued = await db.redis.lrangeBuffer(other.name, 0, -1);
    assert.deepEqual(
      requeued.map((task) => (decodeTask(task) as { args: unknown[] }).args[0]),
      [0, 1, 2],
    );

    // purge: refused without --yes, nothing deleted; done with it.
    const refused = await cli(['--url', db.server.url, 'dead', 'purge', main.name]);
    assertUsageError(refused, /add --yes/);
    assert.equal(await main.deadLetters.count(), 1);
    assert.deepEqual(await json('dead', 'purge', main.name, '--yes'), {
      queue: main.name,
      purged: 1,
    });
    assert.equal(await db.redis.exists(main.keys.dead), 0);
  });

  it('pause and resume: the pause key, the paused column, and no change when repeated', async () => {
    const paused = await json<{ pausedAt: number }>('pause', other.name);
    assert.equal(await other.isPaused(), true);
    assert.deepEqual(paused, {
      queue: other.name,
      paused: true,
      changed: true,
      pausedAt: Number(await db.redis.get(other.keys.paused)),
    });
    assert.match(await text('pause', other.name), /was paused already since \d{4}-/);
    assert.equal(row(await text('stats', other.name), other.name)[6], 'yes');
    assert.match(await text('resume', other.name), /^Resumed /);
    assert.equal(await db.redis.exists(other.keys.paused), 0);
    assert.deepEqual(await json('resume', other.name), {
      queue: other.name,
      paused: false,
      changed: false,
    });
  });

  it('refuses a wrong command line with exit code 2 before touching Redis', async () => {
    // Nothing listens there: a usage error must not even try.
    const url = `redis://127.0.0.1:${await freePort()}`;
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown command "frobnicate"/],
      [[], /no command given/],
      [['stats', '--all'], /stats has no option --all/],
      [['stats', '--bogus'], /unknown option --bogus/],
      [['waiting'], /waiting needs <queue>/],
      [['waiting', 'q', 'r'], /takes <queue>, but got also "r"/],
      [['waiting', 'q', '--limit', '0'], /--limit must be a whole number from 1 to 1000, got "0"/],
      [['scheduled', 'q', '--offset', '1e3'], /--offset must be a whole number/],
      [['stats', '--timeout', 'soon'], /--timeout must be a whole number/],
      [['waiting', 'q', '--limit'], /--limit needs a value/],
      [['dead'], /dead needs a subcommand: list, requeue, remove, purge/],
      [['dead', 'requeue', 'q'], /say which letters: --all, or --limit/],
      [['dead', 'requeue', 'q', '--all', '--limit', '2'], /either --all or --offset\/--limit/],
      [['dead', 'remove', 'q'], /say which letters: --limit/],
      [['stats', '--url', 'http://example.com'], /--url must be a redis:\/\/ or rediss:\/\/ URL/],
    ];
    for (const [args, pattern] of cases) {
      assertUsageError(await cli(['--url', url, ...args]), pattern);
    }
  });

  it('fails the same way with --cluster when no node of the cluster answers', async () => {
    const port = await freePort();
    const run = await cli([
      '--cluster',
      '--url',
      `redis://:secret@127.0.0.1:${port}`,
      '--timeout',
      '500',
      'stats',
    ]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /the cluster \(no node reached yet\): unreachable/);
    assert.ok(run.stderr.includes(`redis://:***@127.0.0.1:${port}`), run.stderr);
    assert.ok(!run.stderr.includes('secret'));
    assert.ok(run.ms < 10_000, `exited after ${run.ms} ms`);
  });

  it('fails with exit code 1 and the URL when Redis is unreachable, promptly', async () => {
    const port = await freePort();
    const run = await cli([
      'stats',
      '--json',
      '--url',
      `redis://:secret@127.0.0.1:${port}`,
      '--timeout',
      '500',
    ]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /unreachable/);
    assert.ok(run.stderr.includes(`redis://:***@127.0.0.1:${port}`), run.stderr);
    assert.ok(!run.stderr.includes('secret'));
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(run.stderr.trim().split('\n').length, 1);
    // Not a speed check: a process that waits for Redis for ever never gets here.
    assert.ok(run.ms < 10_000, `exited after ${run.ms} ms`);
  });

  it('reports an error Redis answers with (exit code 1), without a stack trace', async () => {
    const name = uniqueName('cli');
    await db.redis.hset(name, 'not', 'a list');
    const run = await cli(['--url', db.server.url, 'waiting', name]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^nestjs-delayed: Redis answered with an error: WRONGTYPE/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  });
});
