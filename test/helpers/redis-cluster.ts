import { type ChildProcess, execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { promisify } from 'node:util';
import { Cluster, type ClusterOptions, type Redis } from 'ioredis';
import { AdminConnections, answersOn, freePort, spawnRedis, stopProcess } from './redis-process.js';
import { eventually } from './redis-server.js';

/**
 * A throw-away Redis Cluster on loopback for the cluster suite (test/cluster/): primaries
 * with their replicas, each a redis-server of its own on free ports, no persistence, all
 * files in a fresh temporary directory. Tests kill a primary to watch a failover, and
 * restart it to see it rejoin as a replica. `REDIS_CLI` names another redis-cli.
 */
export const REDIS_CLI = process.env.REDIS_CLI ?? 'redis-cli';
const HOST = '127.0.0.1';
/** How long the whole cluster may take to come up, a failover to end, a node to rejoin. */
const START_TIMEOUT = 20_000;
const FAILOVER_TIMEOUT = 15_000;
const REJOIN_TIMEOUT = 20_000;

export interface ClusterNodeAddress {
  readonly host: string;
  readonly port: number;
}

export interface StartClusterOptions {
  /** Primaries sharing the 16384 slots (default 3; Redis Cluster needs at least 3). */
  readonly primaries?: number;
  /** Replicas of each primary (default 1); a primary without one cannot fail over. */
  readonly replicasPerPrimary?: number;
}

export interface TestCluster {
  /** Every node, primaries and replicas, killed ones included. */
  readonly nodes: readonly ClusterNodeAddress[];
  /** A new ioredis Cluster over all nodes (closed by `stop`). */
  client(options?: ClusterOptions): Cluster;
  /** The primary serving `key`'s slot, as the live nodes see it now. */
  primaryOf(key: string): Promise<{ port: number }>;
  /**
   * SIGKILLs the primary serving `key`'s slot and waits until one of its replicas serves the
   * slot and every live node agrees and reports cluster_state:ok. `failoverMs` runs from the
   * kill to that moment.
   */
  killPrimaryOf(key: string): Promise<{ port: number; newPrimaryPort: number; failoverMs: number }>;
  /**
   * Starts a killed node again on its port and nodes.conf; resolves once it has rejoined (as
   * a replica of the primary that took over) and synced, and every node agrees.
   */
  restart(port: number): Promise<void>;
  /** Closes the clients, stops every node, removes the temporary directory. */
  stop(): Promise<void>;
}

/** One line of CLUSTER NODES: a node as another node (or itself, `myself`) sees it. */
interface NodeView {
  readonly id: string;
  readonly port: number;
  readonly flags: readonly string[];
  /** The id of the primary it replicates ('-' for a primary). */
  readonly primaryId: string;
  readonly connected: boolean;
  /** Slot ranges as printed ("0-5460"), importing/migrating markers left out. */
  readonly slots: readonly string[];
}

function parseClusterNodes(text: string): NodeView[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, primaryId, , , , link, ...slots] = line.trim().split(' ');
      return {
        id: id!,
        port: Number(/:(\d+)@/.exec(address!)?.[1]),
        flags: flags!.split(','),
        primaryId: primaryId!,
        connected: link === 'connected',
        slots: slots.filter((slot) => !slot.startsWith('[')),
      };
    });
}

/** The flags that say a node is not (yet) a healthy member. */
const UNHEALTHY = ['fail', 'fail?', 'handshake', 'noaddr'];

interface ClusterNodeProcess {
  port: number;
  /** The cluster bus port, asked for explicitly: port + 10000 may be taken or beyond 65535. */
  busPort: number;
  /** The running server, undefined while killed. */
  child: ChildProcess | undefined;
}

export async function startCluster(options: StartClusterOptions = {}): Promise<TestCluster> {
  const primaries = options.primaries ?? 3;
  const replicasPerPrimary = options.replicasPerPrimary ?? 1;
  const dir = await mkdtemp(join(tmpdir(), 'nestjs-delayed-cluster-'));
  const nodes: ClusterNodeProcess[] = [];
  const clients: Cluster[] = [];
  const admins = new AdminConnections();

  // A test file that dies without its after() hook (an uncaught error, process.exit) must
  // not leave servers or files behind.
  const killAll = () => {
    for (const node of nodes) node.child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killAll);

  const admin = (port: number): Redis => admins.get(port);
  const live = () => nodes.filter((node) => node.child !== undefined);

  /** Starts the node's server; false when another process holds its port or bus port. */
  const launch = async (node: ClusterNodeProcess): Promise<boolean> => {
    const child = spawnRedis(
      node.port,
      [],
      [
        ...['--cluster-enabled', 'yes'],
        ...['--cluster-config-file', join(dir, `nodes-${node.port}.conf`)],
        ...['--cluster-port', String(node.busPort)],
        ...['--cluster-node-timeout', '1000'],
        // A replica may always take over, however long it was cut off from its primary.
        ...['--cluster-replica-validity-factor', '0'],
        // A replica syncs at once instead of after the 5 s wait for more replicas to join.
        ...['--repl-diskless-sync-delay', '0'],
        // A replica writes what it loads from its primary to disk: there, one file each.
        ...['--dir', dir, '--dbfilename', `dump-${node.port}.rdb`],
      ],
    );
    node.child = child;
    if (await answersOn(child, node.port)) return true;
    node.child = undefined;
    return false;
  };

  /**
   * Throws, saying what is wrong, unless every live node reports cluster_state:ok, sees every
   * live node connected and without failure flags, each as a primary serving slots or a
   * replica of one, the same way as the other nodes do, and (a replica) has its replication
   * link up.
   */
  const checkHealthy = async (): Promise<void> => {
    const livePorts = live().map((node) => node.port);
    let agreed: string | undefined;
    for (const port of livePorts) {
      const info = (await admin(port).cluster('INFO')) as string;
      const state = /cluster_state:(\w+)/.exec(info)?.[1];
      if (state !== 'ok') throw new Error(`node ${port} reports cluster_state:${state}`);
      const view = parseClusterNodes((await admin(port).cluster('NODES')) as string);
      const layout = livePorts
        .map((other) => {
          const seen = view.find((entry) => entry.port === other);
          if (seen === undefined) throw new Error(`node ${port} does not know node ${other}`);
          if (seen.flags.some((flag) => UNHEALTHY.includes(flag)) || !seen.connected) {
            throw new Error(`node ${port} sees node ${other} as ${seen.flags.join(',')}`);
          }
          if (seen.flags.includes('slave')) {
            const primary = view.find((entry) => entry.id === seen.primaryId);
            return `${other} replicates ${primary?.port}`;
          }
          // A primary without slots is one about to turn into a replica (a restarted node).
          if (seen.slots.length === 0) {
            throw new Error(`node ${port} sees node ${other} as a primary without slots`);
          }
          return `${other} serves ${seen.slots.join(' ')}`;
        })
        .join('; ');
      if (agreed === undefined) agreed = layout;
      else if (layout !== agreed) {
        throw new Error(`nodes disagree: ${livePorts[0]} sees ${agreed}; ${port} sees ${layout}`);
      }
      if (view.find((entry) => entry.flags.includes('myself'))!.flags.includes('slave')) {
        const replication = await admin(port).info('replication');
        if (!/master_link_status:up/.test(replication)) {
          throw new Error(`replica ${port} has not synced with its primary yet`);
        }
      }
    }
    const serving = agreed?.split('; ').filter((entry) => entry.includes(' serves ')).length;
    if (serving !== primaries) {
      throw new Error(`expected ${primaries} primaries serving slots, got ${serving}: ${agreed}`);
    }
  };
  /** Waits until the cluster is healthy and `also` holds (it throws, saying why, until then). */
  const waitHealthy = <T>(timeout: number, what: string, also: () => Promise<T>): Promise<T> =>
    eventually(
      async () => {
        await checkHealthy();
        return also();
      },
      timeout,
      what,
    ).catch((error: Error) => {
      throw new Error(`The test cluster (${dir}): ${error.message}`, { cause: error });
    });
  const healthy = async () => true;

  const ask = (command: string, ...args: (string | number)[]) => {
    const node = live()[0];
    if (node === undefined) throw new Error('Every node of the test cluster is down');
    return admin(node.port).call(command, ...args);
  };

  const primaryOf = async (key: string): Promise<{ port: number }> => {
    const slot = Number(await ask('CLUSTER', 'KEYSLOT', key));
    // CLUSTER SLOTS: [start, end, [host, port, id], ...replicas] per range.
    const ranges = (await ask('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const range = ranges.find(([start, end]) => start <= slot && slot <= end);
    if (range === undefined) throw new Error(`No node serves slot ${slot} (key ${key})`);
    return { port: Number(range[2][1]) };
  };

  const stop = async () => {
    for (const client of clients.splice(0)) client.disconnect();
    admins.closeAll();
    await Promise.all(nodes.flatMap(({ child }) => (child ? [stopProcess(child)] : [])));
    process.removeListener('exit', killAll);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const count = primaries * (1 + replicasPerPrimary);
    const ports = new Set<number>();
    while (ports.size < count * 2) ports.add(await freePort());
    const [clientPorts, busPorts] = [[...ports].slice(0, count), [...ports].slice(count)];
    for (const [i, port] of clientPorts.entries()) {
      nodes.push({ port, busPort: busPorts[i]!, child: undefined });
    }
    await Promise.all(
      nodes.map(async (node) => {
        for (let attempt = 1; !(await launch(node)); attempt++) {
          if (attempt === 5) throw new Error(`No free ports for a node after ${attempt} tries`);
          node.port = await freePort();
          node.busPort = await freePort();
        }
      }),
    );
    try {
      await promisify(execFile)(
        REDIS_CLI,
        [
          ...['--cluster', 'create', ...nodes.map((node) => `${HOST}:${node.port}`)],
          ...['--cluster-replicas', String(replicasPerPrimary), '--cluster-yes'],
        ],
        { timeout: 30_000 },
      );
    } catch (error) {
      const { stdout, stderr, message } = error as Error & { stdout?: string; stderr?: string };
      throw new Error(`redis-cli --cluster create failed: ${message}\n${stdout}\n${stderr}`, {
        cause: error,
      });
    }
    await waitHealthy(START_TIMEOUT, 'the cluster to come up', healthy);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    nodes: nodes.map(({ port }) => ({ host: HOST, port })),
    client(clientOptions = {}) {
      const client = new Cluster(
        nodes.map(({ port }) => ({ host: HOST, port })),
        clientOptions,
      );
      client.on('error', () => undefined);
      clients.push(client);
      return client;
    },
    primaryOf,
    async killPrimaryOf(key) {
      const { port } = await primaryOf(key);
      const node = nodes.find((candidate) => candidate.port === port);
      if (node?.child === undefined) throw new Error(`Node ${port} is not one of ours or is down`);
      const slot = Number(await ask('CLUSTER', 'KEYSLOT', key));
      const killedAt = Date.now();
      await stopProcess(node.child, 'SIGKILL');
      node.child = undefined;
      admins.drop(port);
      const newPrimaryPort = await waitHealthy(
        FAILOVER_TIMEOUT,
        `a replica of ${port} to take over`,
        async () => {
          const { port: promoted } = await primaryOf(key);
          if (promoted === port) throw new Error(`slot ${slot} is still served by ${port}`);
          return promoted;
        },
      );
      return { port, newPrimaryPort, failoverMs: Date.now() - killedAt };
    },
    async restart(port) {
      const node = nodes.find((candidate) => candidate.port === port);
      if (node === undefined) throw new Error(`Node ${port} is not one of the test cluster's`);
      if (node.child !== undefined) throw new Error(`Node ${port} is still running`);
      if (!(await launch(node))) throw new Error(`Another process took node ${port}'s port`);
      await waitHealthy(REJOIN_TIMEOUT, `node ${port} to rejoin`, healthy);
    },
    stop,
  };
}

/** A test file's cluster: started before its first test, stopped after its last. */
export function useRedisCluster(options: StartClusterOptions = {}): {
  readonly cluster: TestCluster;
} {
  let started: TestCluster | undefined;
  before(async () => {
    started = await startCluster(options);
  });
  after(() => started?.stop());
  return {
    get cluster() {
      if (started === undefined)
        throw new Error('The test cluster is used before its before() hook ran');
      return started;
    },
  };
}

/**
 * `count` hash tags (`{q0}`, `{q7}`, …) whose slots are served by as many different
 * primaries: keys named with them spread a test's queues over the cluster.
 */
export async function tagsOnEachPrimary(cluster: TestCluster, count = 3): Promise<string[]> {
  const byPrimary = new Map<number, string>();
  for (let i = 0; i < 1_000 && byPrimary.size < count; i++) {
    const tag = `{q${i}}`;
    const { port } = await cluster.primaryOf(tag);
    if (!byPrimary.has(port)) byPrimary.set(port, tag);
  }
  if (byPrimary.size < count) {
    throw new Error(`Found tags on only ${byPrimary.size} primaries, ${count} wanted`);
  }
  return [...byPrimary.values()];
}
