import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { spawnProcess } from '../helpers/processes.js';
import { eventually, freePort, leftoverKeys, useRedisServer } from '../helpers/redis-server.js';

const sample = (file: string) => fileURLToPath(new URL(`../../sample/${file}`, import.meta.url));

const db = useRedisServer();

describe('the sample', () => {
  it('compiles, and its producer and worker process every task end to end', async () => {
    const env = { REDIS_URL: db.server.url, NO_COLOR: '1' };
    const worker = spawnProcess(process.execPath, [sample('worker.js')], env);
    try {
      await worker.waitForLine(/worker ready/);
      const producer = spawnProcess(process.execPath, [sample('producer.js')], env);
      assert.equal(await producer.exited, 0);
      assert.equal(producer.output().match(/enqueued sendWelcome/g)?.length, 3);
      await eventually(
        () => (worker.output().match(/processed logReceipt/g) ?? []).length === 3,
        10_000,
        'receipts',
      );
      assert.equal(worker.output().match(/processed sendWelcome/g)?.length, 3);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    assert.deepEqual(await leftoverKeys(db.redis, 'sample-emails'), []);
  });

  it('answers POST /signups at once and leaves the mail in the queue', async () => {
    const port = await freePort();
    const api = spawnProcess(process.execPath, [sample('main.js')], {
      REDIS_URL: db.server.url,
      PORT: String(port),
      NO_COLOR: '1',
    });
    try {
      await api.waitForLine(/API listening/);
      const response = await fetch(`http://127.0.0.1:${port}/signups`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ada@example.com', name: 'Ada' }),
      });
      assert.equal(response.status, 202);
      assert.deepEqual(await response.json(), { queued: true });
      assert.equal(await db.redis.llen('sample-emails'), 1, 'the API only enqueues');
    } finally {
      api.child.kill('SIGTERM');
      await api.exited;
      await db.redis.del('sample-emails', 'sample-emails_noti');
    }
  });
});
