import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionLoss } from '../../lib/core/redis/connection-loss.js';
import { useRedisServer } from '../helpers/redis-server.js';

// CLIENT KILL reaches every client of the server: a private one, even under REDIS_URL.
const db = useRedisServer({ private: true });

describe('ConnectionLoss', () => {
  it('passes results and errors through and keeps nothing once they settle', async () => {
    const redis = db.server.client();
    const loss = new ConnectionLoss(redis);
    const replies = await Promise.all(
      Array.from({ length: 1_000 }, () => loss.guard(redis.ping())),
    );
    assert.ok(replies.every((reply) => reply === 'PONG'));
    await assert.rejects(loss.guard(redis.call('NO-SUCH-COMMAND')), /unknown command/i);
    assert.equal(loss.watching, 0);
  });

  it('rejects a command in flight when the connection closes, which ioredis alone never settles', async () => {
    const redis = db.server.client();
    redis.options.autoResendUnfulfilledCommands = false;
    const loss = new ConnectionLoss(redis);
    // The assertion is attached before the kill: the close can be seen before CLIENT KILL's
    // own reply, and a rejection nobody listens to yet would fail the run.
    const rejected = assert.rejects(
      loss.guard(redis.blpop('nothing-here', 5)),
      /connection closed before the reply arrived/,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await db.server.client().client('KILL', 'TYPE', 'normal');
    await rejected;
    assert.equal(loss.watching, 0);
  });
});
