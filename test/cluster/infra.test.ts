import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { onServer as onNode } from '../helpers/redis-process.js';
import { tagsOnEachPrimary, useRedisCluster } from '../helpers/redis-cluster.js';

// The cluster helper itself: the rest of the cluster suite trusts what it says about slots,
// primaries and failovers, so each claim is checked here against the nodes directly.
const db = useRedisCluster();

const role = (port: number) => onNode(port, (redis) => redis.call('ROLE') as Promise<unknown[]>);

describe('the test Redis Cluster', () => {
  it('comes up with 3 primaries and 3 replicas, each replica synced', async () => {
    assert.equal(db.cluster.nodes.length, 6);
    const roles = await Promise.all(db.cluster.nodes.map(({ port }) => role(port)));
    assert.equal(roles.filter(([name]) => name === 'master').length, 3);
    const replicas = roles.filter(([name]) => name === 'slave');
    assert.equal(replicas.length, 3);
    for (const replica of replicas) assert.equal(replica[3], 'connected');
  });

  it('spreads the keys of three tags over three primaries, which hold them', async () => {
    const tags = await tagsOnEachPrimary(db.cluster);
    assert.equal(tags.length, 3);
    const client = db.cluster.client();
    const primaries = new Set<number>();
    for (const tag of tags) {
      await client.set(`${tag}:where`, tag);
      assert.equal(await client.get(`${tag}:where`), tag);
      const { port } = await db.cluster.primaryOf(`${tag}:where`);
      primaries.add(port);
      // The primary the helper names is the one that really stores the key.
      assert.equal(await onNode(port, (redis) => redis.get(`${tag}:where`)), tag);
      assert.equal((await role(port))[0], 'master');
    }
    assert.equal(primaries.size, 3);
  });

  it('fails a killed primary over to its replica, a connected client writes again, the old primary rejoins as a replica', async () => {
    const [tag] = await tagsOnEachPrimary(db.cluster, 1);
    const key = `${tag}:survives`;
    const client = db.cluster.client();
    await client.set(key, 'before');
    const { port: primary } = await db.cluster.primaryOf(key);
    // Written on the primary and acknowledged by its replica: the promoted replica has it.
    await onNode(primary, async (redis) => {
      assert.equal(await redis.get(key), 'before');
      assert.equal(await redis.wait(1, 5_000), 1);
    });

    const { port, newPrimaryPort, failoverMs } = await db.cluster.killPrimaryOf(key);
    assert.equal(port, primary);
    assert.notEqual(newPrimaryPort, primary);
    assert.ok(failoverMs > 0 && failoverMs < 15_000, `failover took ${failoverMs} ms`);
    assert.equal((await role(newPrimaryPort))[0], 'master');
    assert.deepEqual(await db.cluster.primaryOf(key), { port: newPrimaryPort });

    // The client connected before the kill finds the new primary by itself.
    assert.equal(await client.get(key), 'before');
    await client.set(key, 'after');
    assert.equal(await onNode(newPrimaryPort, (redis) => redis.get(key)), 'after');

    await db.cluster.restart(primary);
    const [name, host, masterPort, state] = await role(primary);
    assert.deepEqual(
      [name, host, masterPort, state],
      ['slave', '127.0.0.1', newPrimaryPort, 'connected'],
    );
    // Every node already sees it back, as a replica of the new primary.
    for (const { port: other } of db.cluster.nodes) {
      const view = await onNode(other, (redis) => redis.cluster('NODES') as Promise<string>);
      const [id, , flags, primaryId] = view
        .split('\n')
        .find((line) => line.includes(`:${primary}@`))!
        .split(' ');
      assert.match(flags!, /^(myself,)?slave$/, `node ${other} sees ${primary} as ${flags}`);
      const primaryLine = view.split('\n').find((line) => line.startsWith(`${primaryId} `))!;
      assert.ok(primaryLine.includes(`:${newPrimaryPort}@`), `${id} replicates ${primaryLine}`);
    }
    // It synced the write made while it was down.
    const copy = await onNode(primary, async (redis) => {
      await redis.call('READONLY');
      return redis.get(key);
    });
    assert.equal(copy, 'after');
    assert.deepEqual(await db.cluster.primaryOf(key), { port: newPrimaryPort });
  });

  it('refuses to restart a node that is running', async () => {
    await assert.rejects(db.cluster.restart(db.cluster.nodes[0]!.port), /still running/);
  });
});
