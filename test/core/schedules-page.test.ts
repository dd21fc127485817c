import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionsError, PyTask, Queue } from '../../lib/core/index.js';
import { uniqueName, useRedisServer } from '../helpers/redis-server.js';

const db = useRedisServer();

describe('Schedules.page()', () => {
  it('pages through every schedule with a cursor, each with its next tick', async () => {
    const queue = new Queue(db.redis, uniqueName());
    // More than a listpack holds (hash-max-listpack-entries: 512 by default), so HSCAN pages.
    const count = 700;
    for (let i = 0; i < count; i++) {
      await queue.schedules.set(`s-${i}`, { every: 60_000 + i }, new PyTask('m:tick', [i]));
    }
    const seen = new Map<string, number | null>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof queue.schedules.page>> = await queue.schedules.page(
        cursor,
        50,
      );
      pages++;
      // COUNT is a hint: a page holds about that many.
      assert.ok(page.items.length <= 100, `${page.items.length} on one page`);
      for (const info of page.items) seen.set(info.name, info.nextTick);
      cursor = page.next;
    } while (cursor !== null);
    assert.ok(pages > 5, `${pages} pages`);
    assert.equal(seen.size, count);
    const listed = await queue.schedules.list();
    assert.deepEqual(new Map(listed.map((info) => [info.name, info.nextTick])), seen);
    const one = (await queue.schedules.page(null, 1000)).items.find((info) => info.name === 's-7');
    assert.deepEqual(one?.task, { name: 'm:tick', args: [7] });
  });

  it('answers an empty page for a queue without schedules, and refuses bad pages', async () => {
    const queue = new Queue(db.redis, uniqueName());
    assert.deepEqual(await queue.schedules.page(), { items: [], next: null });
    await assert.rejects(queue.schedules.page(null, 0), InvalidOptionsError);
    await assert.rejects(queue.schedules.page(null, 1001), InvalidOptionsError);
    await assert.rejects(queue.schedules.page('x'), InvalidOptionsError);
  });
});
