import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { onServer } from '../helpers/redis-process.js';
import { useRedisSentinel } from '../helpers/redis-sentinel.js';

// The sentinel helper itself: the rest of the sentinel tests trust what it says about the
// primary and its failovers, so each claim is checked here against the servers directly.
const db = useRedisSentinel();

/** A sentinel's flat field, value list (SENTINEL REPLICAS entries) as an object. */
function fields(list: string[]): Record<string, string> {
  const object: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) object[list[i]!] = list[i + 1]!;
  return object;
}

const role = (port: number) => onServer(port, (redis) => redis.call('ROLE') as Promise<unknown[]>);

describe('the test Sentinel setup', () => {
  it('comes up with a primary, a replica and 3 sentinels that agree on the primary', async () => {
    assert.equal(db.sentinel.sentinels.length, 3);
    const primary = await db.sentinel.primaryPort();
    for (const { port } of db.sentinel.sentinels) {
      const [, reported] = await onServer(
        port,
        (redis) =>
          redis.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', db.sentinel.masterName) as Promise<
            [string, string]
          >,
      );
      assert.equal(Number(reported), primary);
    }
    const [name, , replicas] = (await role(primary)) as [string, number, [string, string][]];
    assert.equal(name, 'master');
    assert.equal(replicas.length, 1);
  });

  it('gives a client that writes to the primary', async () => {
    const client = db.sentinel.client();
    await client.set('infra:where', 'primary');
    const primary = await db.sentinel.primaryPort();
    assert.equal(await onServer(primary, (redis) => redis.get('infra:where')), 'primary');
  });

  it('fails a killed primary over to its replica, a connected client writes again, the old primary rejoins as a replica', async () => {
    const client = db.sentinel.client();
    const primary = await db.sentinel.primaryPort();
    // Written on the primary and acknowledged by its replica: the promoted replica has it.
    await onServer(primary, async (redis) => {
      await redis.set('infra:survives', 'before');
      assert.equal(await redis.wait(1, 5_000), 1);
    });
    assert.equal(await client.get('infra:survives'), 'before');

    const { port, newPrimaryPort, failoverMs } = await db.sentinel.killPrimary();
    assert.equal(port, primary);
    assert.notEqual(newPrimaryPort, primary);
    assert.ok(failoverMs > 0 && failoverMs < 20_000, `failover took ${failoverMs} ms`);
    assert.equal(await db.sentinel.primaryPort(), newPrimaryPort);
    assert.equal((await role(newPrimaryPort))[0], 'master');

    // The client connected before the kill asks the sentinels again and finds the new primary.
    assert.equal(await client.get('infra:survives'), 'before');
    await client.set('infra:survives', 'after');
    assert.equal(await onServer(newPrimaryPort, (redis) => redis.get('infra:survives')), 'after');

    await db.sentinel.restart(primary);
    const [name, host, masterPort, state] = await role(primary);
    assert.deepEqual(
      [name, host, masterPort, state],
      ['slave', '127.0.0.1', newPrimaryPort, 'connected'],
    );
    // It synced the write made while it was down.
    assert.equal(await onServer(primary, (redis) => redis.get('infra:survives')), 'after');
    assert.equal(await db.sentinel.primaryPort(), newPrimaryPort);
    // And every sentinel already counts it as a replica in sync, one it could promote.
    for (const sentinel of db.sentinel.sentinels) {
      const replicas = await onServer(
        sentinel.port,
        (redis) =>
          redis.call('SENTINEL', 'REPLICAS', db.sentinel.masterName) as Promise<string[][]>,
      );
      const seen = replicas.map(fields).find((replica) => Number(replica.port) === primary);
      assert.equal(seen?.flags, 'slave', `sentinel ${sentinel.port} sees ${JSON.stringify(seen)}`);
      assert.equal(seen['master-link-status'], 'ok');
      assert.equal(Number(seen['master-port']), newPrimaryPort);
    }
  });

  it('fails over again once the old primary has rejoined', async () => {
    const before = await db.sentinel.primaryPort();
    const { port, newPrimaryPort } = await db.sentinel.killPrimary();
    assert.equal(port, before);
    assert.equal((await role(newPrimaryPort))[0], 'master');
    const client = db.sentinel.client();
    assert.equal(await client.get('infra:survives'), 'after');
    await db.sentinel.restart(port);
  });

  it('refuses to restart a server that is running', async () => {
    await assert.rejects(db.sentinel.restart(await db.sentinel.primaryPort()), /still running/);
  });
});
