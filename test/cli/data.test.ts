import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, it } from 'node:test';
import { DataQueue } from '../../lib/core/index.js';
import { assertUsageError, CLI_MAIN, runCli, tableRow } from '../helpers/cli.js';
import { freePort, uniqueName, useRedisServer } from '../helpers/redis-server.js';

// `nestjs-delayed data ...`: the built bin against a real Redis, each test on its own data
// queues, checking what each command changed in Redis, not only what it printed.

const db = useRedisServer();

/** `--url` plus `args`, expecting exit code 0 and JSON on stdout. */
async function json<T = Record<string, unknown>>(...args: string[]): Promise<T> {
  const run = await runCli(['--url', db.server.url, '--json', ...args]);
  assert.equal(run.code, 0, `exit code of ${args.join(' ')}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

async function text(...args: string[]): Promise<string> {
  const run = await runCli(['--url', db.server.url, ...args]);
  assert.equal(run.code, 0, `exit code of ${args.join(' ')}: ${run.stderr}`);
  assert.equal(run.stderr, '');
  return run.stdout;
}

function dataQueue<T = unknown>(options: ConstructorParameters<typeof DataQueue>[2] = {}) {
  return new DataQueue<T>(db.redis, uniqueName('cli_dq'), options);
}

/** The attempts an item's stored record allows (a uint16 at bytes 2-3 of its header). */
async function attemptsOf(queue: DataQueue, id: string): Promise<number | null> {
  const record = await db.redis.hgetBuffer(queue.keys.items, id);
  return record === null ? null : record.readUInt16BE(2);
}

/**
 * Dead letters written by the real scripts: each item leased for 20 ms, `attempts` times,
 * without done. One item at a time, so the letters are kept in the order of `items` (items
 * whose leases end at the same instant die in no particular order). Returns their ids.
 */
async function kill(queue: DataQueue, items: unknown[], attempts: number): Promise<string[]> {
  const ids: string[] = [];
  for (const item of items) {
    const [id] = await queue.put([item], { attempts, deadLetter: true });
    for (let i = 0; i < attempts; i++) {
      const batch = await queue.get(1000, { visibilityTimeout: 20 });
      assert.deepEqual([...batch.keys()], [id]);
      await sleep(40);
      await queue.sweep();
    }
    ids.push(id!);
  }
  return ids;
}

describe('nestjs-delayed data', () => {
  before(() => {
    assert.ok(existsSync(CLI_MAIN), `${CLI_MAIN} is missing: run npm run build first`);
  });

  it('has help for the group, its dead letter group and each command', async () => {
    const tool = await runCli(['--help']);
    for (const command of [
      'data stats',
      'data peek',
      'data dead list',
      'data dead requeue',
      'data dead remove',
      'data dead purge',
      'data delete',
    ]) {
      assert.match(tool.stdout, new RegExp(`^  ${command} <queue`, 'm'), command);
    }
    const group = await runCli(['data', '--help']);
    assert.equal(group.code, 0);
    assert.match(group.stdout, /Usage: nestjs-delayed data <stats\|peek\|dead\|delete> \.\.\./);
    const dead = await runCli(['help', 'data', 'dead']);
    assert.match(dead.stdout, /Usage: nestjs-delayed data dead <list\|requeue\|remove\|purge>/);
    const requeue = await runCli(['data', 'dead', 'requeue', '--help']);
    assert.match(requeue.stdout, /Usage: nestjs-delayed data dead requeue <queue> \[options\]/);
    assert.match(requeue.stdout, /--attempts <n>/);
  });

  it('stats: available, invisible, delayed and dead of each queue, as JSON and as a table', async () => {
    const busy = dataQueue();
    await kill(busy, ['dies'], 1);
    await busy.put(['a', 'b', 'c', 'd']);
    await busy.put(['later'], { delay: 600_000 });
    await busy.get(1, { visibilityTimeout: 600_000 });
    const empty = dataQueue();

    const { queues } = await json<{ queues: unknown[] }>('data', 'stats', busy.name, empty.name);
    assert.deepEqual(queues, [
      { queue: busy.name, available: 3, invisible: 1, delayed: 1, dead: 1 },
      { queue: empty.name, available: 0, invisible: 0, delayed: 0, dead: 0 },
    ]);
    const table = await text('data', 'stats', busy.name, empty.name);
    assert.deepEqual(table.split('\n')[0]!.split(/\s+/), [
      'QUEUE',
      'AVAILABLE',
      'INVISIBLE',
      'DELAYED',
      'DEAD',
    ]);
    assert.deepEqual(tableRow(table, busy.name), [busy.name, '3', '1', '1', '1']);
    assert.deepEqual(tableRow(table, empty.name), [empty.name, '0', '0', '0', '0']);
    // Counting changed nothing.
    assert.deepEqual(await busy.counts(), { available: 3, invisible: 1, delayed: 1, dead: 1 });
  });

  it('peek: the head in order with ids, bytes and big integers readable, and takes nothing', async () => {
    const queue = dataQueue();
    const long = { text: 'x'.repeat(200) };
    const items = [long, Buffer.from([0, 1, 2, 255]), 2n ** 63n - 1n, 'plain', 42];
    const ids = await queue.put(items);
    const before = await db.redis.lrange(queue.keys.available, 0, -1);

    const all = await json<{
      queue: string;
      available: number;
      items: { id: string; item: unknown }[];
      unreadable: unknown[];
    }>('data', 'peek', queue.name);
    assert.deepEqual(all, {
      queue: queue.name,
      available: 5,
      items: [
        { id: ids[0], item: long },
        { id: ids[1], item: Buffer.from([0, 1, 2, 255]).toString('base64') },
        { id: ids[2], item: (2n ** 63n - 1n).toString() },
        { id: ids[3], item: 'plain' },
        { id: ids[4], item: 42 },
      ],
      unreadable: [],
    });
    const first = await json<{ items: { id: string }[] }>(
      'data',
      'peek',
      queue.name,
      '--limit',
      '2',
    );
    assert.deepEqual(
      first.items.map((item) => item.id),
      ids.slice(0, 2),
    );

    const table = await text('data', 'peek', queue.name, '--limit', '3');
    assert.deepEqual(table.split('\n')[0]!.split(/\s+/), ['ID', 'ITEM']);
    const cut = tableRow(table, ids[0]!)[1]!;
    assert.ok(cut.startsWith('{"text":"xxx') && cut.endsWith('…') && cut.length === 48, cut);
    assert.deepEqual(tableRow(table, ids[1]!), [ids[1], '"AAEC/w=="']);
    assert.deepEqual(tableRow(table, ids[2]!), [ids[2], '"9223372036854775807"']);
    assert.match(table, /The first 3 of 5 available items\. More: --limit 5$/m);

    // Nothing was taken: the same ids in the same order, and a get still has them all.
    assert.deepEqual(await db.redis.lrange(queue.keys.available, 0, -1), before);
    assert.deepEqual([...(await queue.get(10)).keys()], ids);
    assert.match(
      await text('data', 'peek', queue.name),
      /^No items available in .*\(data stats counts the delayed and invisible ones\)\.$/m,
    );
  });

  it('peek shows a record that is not ours for what it is, and still takes nothing', async () => {
    const queue = dataQueue();
    const [good] = await queue.put(['good']);
    await db.redis.hset(queue.keys.items, 'foreign', 'not a record');
    await db.redis.rpush(queue.keys.available, 'foreign');
    const peeked = await json<{ items: unknown[]; unreadable: { id: string; record: string }[] }>(
      'data',
      'peek',
      queue.name,
    );
    assert.deepEqual(peeked.items, [{ id: good, item: 'good' }]);
    assert.deepEqual(peeked.unreadable, [
      { id: 'foreign', record: Buffer.from('not a record').toString('base64') },
    ]);
    assert.match(
      await text('data', 'peek', queue.name),
      /1 item at the head is not a data queue record \(written by something else\): foreign/,
    );
    assert.equal(await db.redis.llen(queue.keys.available), 2);
  });

  it('dead list, requeue, remove and purge change exactly what they say', async () => {
    const queue = dataQueue();
    const once = await kill(queue, ['a0', 'a1', { big: 2n ** 60n }], 1);
    const twice = await kill(queue, ['b'], 2);
    // Bytes that are not a dead letter, as something else might have written them: not
    // MessagePack at all, and MessagePack that is not a letter (the number 7).
    await db.redis.rpush(queue.keys.dead, 'garbage', Buffer.from([7]));
    const ids = [...once, ...twice];
    // A copy of a real letter's bytes, to give purge something to purge at the end.
    const [letterBytes] = await db.redis.lrangeBuffer(queue.keys.dead, 0, 0);

    const list = await json<{
      queue: string;
      total: number;
      offset: number;
      items: Record<string, unknown>[];
    }>('data', 'dead', 'list', queue.name);
    assert.equal(list.total, 6);
    assert.equal(list.offset, 0);
    assert.deepEqual(
      list.items.slice(0, 4).map(({ diedAt, ...rest }) => {
        assert.equal(typeof diedAt, 'number');
        return rest;
      }),
      [
        { index: 0, id: ids[0], attempts: 1, item: 'a0' },
        { index: 1, id: ids[1], attempts: 1, item: 'a1' },
        { index: 2, id: ids[2], attempts: 1, item: { big: (2n ** 60n).toString() } },
        { index: 3, id: ids[3], attempts: 2, item: 'b' },
      ],
    );
    const { problem, ...unreadable } = list.items[4]!;
    assert.match(String(problem), /^not MessagePack: /);
    assert.deepEqual(unreadable, {
      index: 4,
      id: null,
      attempts: null,
      diedAt: null,
      item: null,
      letterBase64: Buffer.from('garbage').toString('base64'),
    });
    assert.deepEqual(list.items[5], {
      index: 5,
      id: null,
      attempts: null,
      diedAt: null,
      item: null,
      problem: 'not a data dead letter',
      letterBase64: Buffer.from([7]).toString('base64'),
    });
    const page = await json<{ items: { index: number }[] }>(
      'data',
      'dead',
      'list',
      queue.name,
      '--offset',
      '3',
      '--limit',
      '1',
    );
    assert.deepEqual(
      page.items.map((item) => item.index),
      [3],
    );
    const table = await text('data', 'dead', 'list', queue.name);
    assert.deepEqual(table.split('\n')[0]!.split(/\s{2,}/), [
      'INDEX',
      'DIED AT',
      'ID',
      'ATTEMPTS',
      'ITEM',
    ]);
    const b = tableRow(table, '3');
    assert.match(b[1]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(b.slice(2), [ids[3], '2', '"b"']);
    assert.deepEqual(tableRow(table, '4').slice(1, 4), ['-', '-', '-']);
    assert.match(tableRow(table, '4')[4]!, /^\(unreadable: not MessagePack: /);
    assert.deepEqual(tableRow(table, '5').slice(1), [
      '-',
      '-',
      '-',
      '(unreadable: not a data dead letter)',
    ]);
    assert.match(table, /Dead letters 1-6 of 6\./);

    // requeue one: "b" is available again under its id, with the 2 attempts it had.
    assert.deepEqual(
      await json('data', 'dead', 'requeue', queue.name, '--offset', '3', '--limit', '1'),
      { queue: queue.name, selected: 1, requeued: 1, unreadable: 0 },
    );
    assert.equal(await queue.deadLetters.count(), 5);
    assert.deepEqual(await db.redis.lrange(queue.keys.available, 0, -1), [ids[3]]);
    assert.equal(await attemptsOf(queue, ids[3]!), 2);

    // requeue with --attempts: "a1" gets 5.
    assert.match(
      await text(
        'data',
        'dead',
        'requeue',
        queue.name,
        '--offset',
        '1',
        '--limit',
        '1',
        '--attempts',
        '5',
      ),
      /^Requeued 1 dead letter into /,
    );
    assert.equal(await attemptsOf(queue, ids[1]!), 5);
    assert.deepEqual(await db.redis.lrange(queue.keys.available, 0, -1), [ids[3], ids[1]]);

    // remove: index 0 ("a0"), and only it.
    assert.deepEqual(
      await json('data', 'dead', 'remove', queue.name, '--offset', '0', '--limit', '1'),
      { queue: queue.name, selected: 1, removed: 1 },
    );
    assert.equal(await queue.deadLetters.count(), 3);
    assert.deepEqual(
      (await db.redis.lrangeBuffer(queue.keys.dead, 1, 1))[0],
      Buffer.from('garbage'),
    );

    // requeue --all: the readable letter goes back, the unreadable ones stay.
    const all = await runCli([
      '--url',
      db.server.url,
      'data',
      'dead',
      'requeue',
      queue.name,
      '--all',
    ]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(
      all.stdout,
      /^Requeued 1 dead letter into .*\.\n2 letters could not be read and stayed/,
    );
    assert.deepEqual(await db.redis.lrange(queue.keys.available, 0, -1), [ids[3], ids[1], ids[2]]);
    assert.equal(await attemptsOf(queue, ids[2]!), 1);
    assert.equal(await queue.deadLetters.count(), 2);

    // The requeued items are the items they were.
    assert.deepEqual([...(await queue.peek(10)).values()], ['b', 'a1', { big: 2n ** 60n }]);

    // remove deletes unreadable letters too; purge refuses without --yes, then empties.
    assert.deepEqual(await json('data', 'dead', 'remove', queue.name, '--limit', '2'), {
      queue: queue.name,
      selected: 2,
      removed: 2,
    });
    assert.equal(await queue.deadLetters.count(), 0);
    await db.redis.rpush(queue.keys.dead, letterBytes!);
    assertUsageError(
      await runCli(['--url', db.server.url, 'data', 'dead', 'purge', queue.name]),
      /data dead purge deletes every dead letter of data queue .*; add --yes to confirm/,
    );
    assert.equal(await queue.deadLetters.count(), 1);
    assert.deepEqual(await json('data', 'dead', 'purge', queue.name, '--yes'), {
      queue: queue.name,
      purged: 1,
    });
    assert.equal(await db.redis.exists(queue.keys.dead), 0);
    assert.equal(await db.redis.llen(queue.keys.available), 3, 'purge leaves the items');
    assert.equal(
      await text('data', 'dead', 'list', queue.name),
      `No dead letters in ${queue.name}.\n`,
    );
  });

  it('delete: refused without --yes; then every item goes, the dead letters stay', async () => {
    const queue = dataQueue();
    await kill(queue, ['dies'], 1);
    await queue.put(['a', 'b']);
    await queue.put(['later'], { delay: 600_000 });
    await queue.get(1, { visibilityTimeout: 600_000 });

    assertUsageError(
      await runCli(['--url', db.server.url, 'data', 'delete', queue.name]),
      /data delete deletes every item of data queue .*; add --yes to confirm/,
    );
    assert.deepEqual(await queue.counts(), { available: 1, invisible: 1, delayed: 1, dead: 1 });

    assert.deepEqual(await json('data', 'delete', queue.name, '--yes'), {
      queue: queue.name,
      deleted: true,
      before: { available: 1, invisible: 1, delayed: 1, dead: 1 },
    });
    assert.deepEqual(await queue.counts(), { available: 0, invisible: 0, delayed: 0, dead: 1 });
    const { available, items, leases, delayed } = queue.keys;
    assert.equal(await db.redis.exists(available, items, leases, delayed), 0);
    await queue.put(['again']);
    assert.equal(
      await text('data', 'delete', queue.name, '--yes'),
      `Deleted every item of ${queue.name} (1 just before: 1 available, 0 invisible, 0 delayed). Kept: 1 dead letter.\n`,
    );
  });

  it('refuses a wrong command line with exit code 2 before touching Redis', async () => {
    // Nothing listens there: a usage error must not even try.
    const url = `redis://127.0.0.1:${await freePort()}`;
    const cases: [string[], RegExp][] = [
      [['data'], /data needs a subcommand: stats, peek, dead, delete/],
      [
        ['data', 'bogus', 'q'],
        /unknown subcommand "data bogus"; data has stats, peek, dead, delete/,
      ],
      [['data', 'dead'], /data dead needs a subcommand: list, requeue, remove, purge/],
      [['data', 'dead', 'bury', 'q'], /unknown subcommand "data dead bury"/],
      [['data', 'stats'], /data stats needs <queue\.\.\.>/],
      [['data', 'peek'], /data peek needs <queue>/],
      [['data', 'peek', 'q', 'r'], /data peek takes <queue>, but got also "r"/],
      [
        ['data', 'peek', 'q', '--limit', '0'],
        /--limit must be a whole number from 1 to 1000, got "0"/,
      ],
      [['data', 'peek', 'q', '--limit', '1001'], /--limit must be a whole number from 1 to 1000/],
      [['data', 'peek', 'q', '--all'], /data peek has no option --all/],
      [['data', 'dead', 'list', 'q', '--offset', '-1'], /--offset/],
      [['data', 'dead', 'requeue', 'q'], /say which letters: --all, or --limit/],
      [
        ['data', 'dead', 'requeue', 'q', '--all', '--limit', '2'],
        /either --all or --offset\/--limit/,
      ],
      [
        ['data', 'dead', 'requeue', 'q', '--all', '--attempts', '0'],
        /--attempts must be a whole number from 1 to 65535/,
      ],
      [['data', 'dead', 'remove', 'q'], /say which letters: --limit/],
      [['data', 'dead', 'purge', 'q'], /add --yes to confirm/],
      [['data', 'delete', 'q'], /add --yes to confirm/],
      [['data', 'delete', 'q', '--yes=no'], /--yes takes no value/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(['--url', url, ...args])));
    runs.forEach((run, i) => assertUsageError(run, cases[i]![1]));
  });

  it('fails with exit code 1 and one line when Redis is unreachable, promptly', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const commands = [
      ['data', 'stats', 'q'],
      ['data', 'peek', 'q'],
      ['data', 'dead', 'list', 'q'],
      ['data', 'dead', 'requeue', 'q', '--all'],
      ['data', 'dead', 'remove', 'q', '--limit', '1'],
      ['data', 'dead', 'purge', 'q', '--yes'],
      ['data', 'delete', 'q', '--yes'],
    ];
    const runs = await Promise.all(
      commands.map((args) => runCli([...args, '--json', '--url', url, '--timeout', '500'])),
    );
    runs.forEach((run, i) => {
      const what = commands[i]!.join(' ');
      assert.equal(run.code, 1, `${what}: ${run.stderr}`);
      assert.equal(run.stdout, '', what);
      assert.match(run.stderr, /^nestjs-delayed: Redis at .*unreachable.*\(--url redis:\/\//, what);
      assert.equal(run.stderr.trim().split('\n').length, 1, what);
      // Not a speed check: a process that waits for Redis for ever never gets here.
      assert.ok(run.ms < 10_000, `${what} exited after ${run.ms} ms`);
    });
  });

  it('reports an error Redis answers with (exit code 1), without a stack trace', async () => {
    const name = uniqueName('cli_dq');
    await db.redis.hset(`${name}_dq_dead`, 'not', 'a list');
    for (const args of [
      ['data', 'stats', name],
      ['data', 'dead', 'list', name],
    ]) {
      const run = await runCli(['--url', db.server.url, ...args]);
      assert.equal(run.code, 1, args.join(' '));
      assert.match(run.stderr, /^nestjs-delayed: Redis answered with an error: WRONGTYPE/);
      assert.doesNotMatch(run.stderr, /\n\s+at /);
    }
  });
});
