import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertWorkerCanRun,
  isSupportedRedisVersion,
  parseRedisVersion,
} from '../../lib/core/redis/redis-version.js';
import { useRedisServer } from '../helpers/redis-server.js';

const db = useRedisServer();

describe('the Redis version check', () => {
  it('reads redis_version from INFO server', () => {
    assert.deepEqual(
      parseRedisVersion('# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:0\r\n'),
      [7, 0, 15],
    );
    assert.deepEqual(parseRedisVersion('redis_version:6.2\r\n'), [6, 2, 0]);
    assert.equal(parseRedisVersion('# Server\r\nserver_name:something\r\n'), undefined);
  });

  it('accepts 6.2 and later, refuses older servers', () => {
    assert.ok(isSupportedRedisVersion([6, 2, 0]));
    assert.ok(isSupportedRedisVersion([7, 0, 15]));
    assert.ok(isSupportedRedisVersion([10, 0, 0]));
    assert.equal(isSupportedRedisVersion([6, 0, 16]), false);
    assert.equal(isSupportedRedisVersion([5, 9, 0]), false);
  });

  it('lets a worker start on the test server, which is recent enough', async () => {
    const version = parseRedisVersion(await db.redis.info('server'));
    assert.ok(version && isSupportedRedisVersion(version), `test server ${version?.join('.')}`);
    await assertWorkerCanRun(db.redis);
  });
});
