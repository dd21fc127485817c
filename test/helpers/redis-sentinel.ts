import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { Redis, type RedisOptions } from 'ioredis';
import {
  AdminConnections,
  answersOn,
  connectWhenUp,
  freePort,
  REDIS_SERVER,
  spawnRedis,
  stopProcess,
} from './redis-process.js';
import { eventually } from './redis-server.js';

/**
 * A throw-away Sentinel setup on loopback for the sentinel tests (test/sentinel/): a primary,
 * its replicas and the sentinels watching them, each a process of its own on a free port, no
 * persistence, the sentinels' config files in a fresh temporary directory. Tests kill the
 * primary to watch the sentinels promote a replica, and restart it as a replica.
 */
const HOST = '127.0.0.1';
const MASTER_NAME = 'delayed-test';
/** How long the setup may take to come up, a failover to end, a node to rejoin. */
const START_TIMEOUT = 20_000;
// A failed election is retried only after twice failover-timeout (10 s).
const FAILOVER_TIMEOUT = 20_000;
const REJOIN_TIMEOUT = 20_000;
/** SENTINEL DEBUG periods, in ms (defaults: ping 1000, ask 1000, publish 2000, info 10000). */
const SENTINEL_PERIODS = {
  'ping-period': 250,
  'ask-period': 250,
  // Hello messages: how soon sentinels find each other and learn of a new primary.
  'publish-period': 500,
  // INFO: how soon they see a replica, or a replica's role change.
  'info-period': 1000,
};

export interface SentinelAddress {
  readonly host: string;
  readonly port: number;
}

export interface StartSentinelOptions {
  /** Replicas of the primary (default 1). */
  readonly replicas?: number;
  /** Sentinels watching it (default 3); a majority of them must agree to fail over. */
  readonly sentinels?: number;
}

export interface TestSentinel {
  /** The name the sentinels monitor the primary under (ioredis' `name`). */
  readonly masterName: string;
  readonly sentinels: readonly SentinelAddress[];
  /** The primary's port, as a sentinel reports it now. */
  primaryPort(): Promise<number>;
  /** A new ioredis client that finds the primary through the sentinels (closed by `stop`). */
  client(extra?: RedisOptions): Redis;
  /**
   * SIGKILLs the primary and waits until every sentinel reports a replica as the new primary
   * and it answers ROLE as master; `failoverMs` runs from the kill to that moment. Resolves
   * once the other replicas, if any, replicate from the new primary and the sentinels see
   * them do so.
   */
  killPrimary(): Promise<{ port: number; newPrimaryPort: number; failoverMs: number }>;
  /**
   * Starts a killed server again on its port, as a replica of the current primary; resolves
   * once it has synced and every sentinel sees it as a replica it could promote.
   */
  restart(port: number): Promise<void>;
  /** Closes the clients, stops every process, removes the temporary directory. */
  stop(): Promise<void>;
}

/** A reply of SENTINEL MASTER or one entry of SENTINEL REPLICAS: a flat field, value list. */
function fields(reply: unknown): Map<string, string> {
  const list = reply as string[];
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < list.length; i += 2) map.set(list[i]!, list[i + 1]!);
  return map;
}

interface ServerProcess {
  port: number;
  /** The running process, undefined while killed. */
  child: ChildProcess | undefined;
}

export async function startSentinel(options: StartSentinelOptions = {}): Promise<TestSentinel> {
  const replicaCount = options.replicas ?? 1;
  const sentinelCount = options.sentinels ?? 3;
  const quorum = Math.floor(sentinelCount / 2) + 1;
  const dir = await mkdtemp(join(tmpdir(), 'nestjs-delayed-sentinel-'));
  const servers: ServerProcess[] = [];
  const sentinels: ServerProcess[] = [];
  const clients: Redis[] = [];
  const admins = new AdminConnections();

  // A test file that dies without its after() hook (an uncaught error, process.exit) must
  // not leave processes or files behind.
  const killAll = () => {
    for (const member of [...servers, ...sentinels]) member.child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killAll);

  const admin = (port: number): Redis => admins.get(port);
  const liveSentinels = () => sentinels.filter((sentinel) => sentinel.child !== undefined);

  /** Starts a redis-server (a replica of `primaryPort` if given); false when its port is taken. */
  const launchServer = async (server: ServerProcess, primaryPort?: number): Promise<boolean> => {
    const child = spawnRedis(
      server.port,
      [],
      [
        // A replica syncs at once instead of after the 5 s wait for more replicas to join.
        ...['--repl-diskless-sync-delay', '0'],
        ...(primaryPort === undefined ? [] : ['--replicaof', HOST, String(primaryPort)]),
        // A replica writes what it loads from its primary to disk: there, one file each.
        ...['--dir', dir, '--dbfilename', `dump-${server.port}.rdb`],
      ],
    );
    server.child = child;
    if (await answersOn(child, server.port)) return true;
    server.child = undefined;
    return false;
  };

  /** Starts a sentinel watching `primaryPort`; false when its port is taken. */
  const launchSentinel = async (sentinel: ServerProcess, primaryPort: number): Promise<boolean> => {
    // Sentinel rewrites its config file as it learns the setup: one file per sentinel.
    const config = join(dir, `sentinel-${sentinel.port}.conf`);
    await writeFile(
      config,
      [
        `port ${sentinel.port}`,
        `bind ${HOST}`,
        `dir ${dir}`,
        'loglevel warning',
        `sentinel monitor ${MASTER_NAME} ${HOST} ${primaryPort} ${quorum}`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
        `sentinel failover-timeout ${MASTER_NAME} 5000`,
        '',
      ].join('\n'),
    );
    const child = spawn(REDIS_SERVER, [config, '--sentinel'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('error', (error) => console.error(`Cannot start a sentinel: ${error.message}`));
    sentinel.child = child;
    if (!(await answersOn(child, sentinel.port))) {
      sentinel.child = undefined;
      return false;
    }
    const redis = await connectWhenUp(`redis://${HOST}:${sentinel.port}`, child);
    // Sentinel's own timers, shortened for a test on loopback (they are not in the config
    // file). The ping period matters most: a sentinel reconnects to a new primary at most once
    // per period and counts it down once down-after-milliseconds pass without a PONG, so with
    // the default 1 s period it may see the primary it just switched to as down and fail it
    // over at once, or abort and hold off failovers for 10 s.
    for (const [name, ms] of Object.entries(SENTINEL_PERIODS)) {
      await redis.call('SENTINEL', 'DEBUG', name, ms);
    }
    redis.disconnect();
    return true;
  };

  /** Launches `member`, on fresh ports while another process turns out to hold its port. */
  const launchOnFreePort = async (member: ServerProcess, launch: () => Promise<boolean>) => {
    for (let attempt = 1; !(await launch()); attempt++) {
      if (attempt === 5) throw new Error(`No free port for a server after ${attempt} tries`);
      member.port = await freePort();
    }
  };

  /** Throws, saying why, unless the server at `port` replicates from `primaryPort` and has synced. */
  const checkReplicating = async (port: number, primaryPort: number) => {
    const info = await admin(port).info('replication');
    const master = Number(/master_port:(\d+)/.exec(info)?.[1]);
    if (!/role:slave/.test(info) || master !== primaryPort) {
      const role = /role:(\w+)/.exec(info)?.[1];
      throw new Error(
        `server ${port} is not a replica of ${primaryPort} (role:${role}, master ${master})`,
      );
    }
    if (!/master_link_status:up/.test(info)) {
      throw new Error(`replica ${port} has not synced with ${primaryPort} yet`);
    }
  };

  /**
   * Throws, saying why, unless every live sentinel names `primaryPort` as the primary, knows
   * the other sentinels, and sees `replicaPorts` as reachable replicas of it.
   */
  const checkSentinels = async (primaryPort: number, replicaPorts: readonly number[]) => {
    for (const { port } of liveSentinels()) {
      const master = fields(await admin(port).call('SENTINEL', 'MASTER', MASTER_NAME));
      if (Number(master.get('port')) !== primaryPort) {
        throw new Error(`sentinel ${port} names ${master.get('port')} as primary`);
      }
      if (master.get('flags') !== 'master') {
        throw new Error(`sentinel ${port} sees the primary as ${master.get('flags')}`);
      }
      const others = Number(master.get('num-other-sentinels'));
      if (others !== sentinels.length - 1) {
        throw new Error(`sentinel ${port} knows ${others} other sentinels`);
      }
      const replicas = ((await admin(port).call('SENTINEL', 'REPLICAS', MASTER_NAME)) as unknown[])
        .map(fields)
        .filter(
          (replica) =>
            replica.get('flags') === 'slave' &&
            replica.get('master-link-status') === 'ok' &&
            Number(replica.get('master-port')) === primaryPort,
        );
      // Only a replica seen up and in sync is one the sentinels would promote.
      for (const replicaPort of replicaPorts) {
        if (!replicas.some((replica) => Number(replica.get('port')) === replicaPort)) {
          throw new Error(`sentinel ${port} does not see replica ${replicaPort} up and in sync`);
        }
      }
    }
  };

  const wait = <T>(timeout: number, what: string, check: () => Promise<T>): Promise<T> =>
    eventually(check, timeout, what).catch((error: Error) => {
      throw new Error(`The test sentinel setup (${dir}): ${error.message}`, { cause: error });
    });

  const primaryPort = async (): Promise<number> => {
    const sentinel = liveSentinels()[0];
    if (sentinel === undefined) throw new Error('Every sentinel is down');
    const reply = (await admin(sentinel.port).call(
      'SENTINEL',
      'GET-MASTER-ADDR-BY-NAME',
      MASTER_NAME,
    )) as [string, string] | null;
    if (reply === null) throw new Error(`Sentinel ${sentinel.port} does not know ${MASTER_NAME}`);
    return Number(reply[1]);
  };

  const stop = async () => {
    for (const client of clients.splice(0)) client.disconnect();
    admins.closeAll();
    await Promise.all(
      [...servers, ...sentinels].flatMap(({ child }) => (child ? [stopProcess(child)] : [])),
    );
    process.removeListener('exit', killAll);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const ports = new Set<number>();
    while (ports.size < 1 + replicaCount + sentinelCount) ports.add(await freePort());
    for (const [i, port] of [...ports].entries()) {
      (i <= replicaCount ? servers : sentinels).push({ port, child: undefined });
    }
    const [primary, ...replicas] = servers;
    await launchOnFreePort(primary!, () => launchServer(primary!));
    await Promise.all(
      replicas.map((replica) =>
        launchOnFreePort(replica, () => launchServer(replica, primary!.port)),
      ),
    );
    const replicaPorts = replicas.map((replica) => replica.port);
    await wait(START_TIMEOUT, 'the replicas to sync', async () => {
      for (const port of replicaPorts) await checkReplicating(port, primary!.port);
      return true;
    });
    // Started once the replicas are in sync, so the sentinels' first INFO of the primary
    // already lists them.
    await Promise.all(
      sentinels.map((sentinel) =>
        launchOnFreePort(sentinel, () => launchSentinel(sentinel, primary!.port)),
      ),
    );
    await wait(START_TIMEOUT, 'the sentinels to agree', async () => {
      await checkSentinels(primary!.port, replicaPorts);
      return true;
    });
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    masterName: MASTER_NAME,
    sentinels: sentinels.map(({ port }) => ({ host: HOST, port })),
    primaryPort,
    client(extra = {}) {
      const client = new Redis({
        sentinels: sentinels.map(({ port }) => ({ host: HOST, port })),
        name: MASTER_NAME,
        ...extra,
      });
      client.on('error', () => undefined);
      clients.push(client);
      return client;
    },
    async killPrimary() {
      const port = await primaryPort();
      const primary = servers.find((server) => server.port === port);
      if (primary?.child === undefined) throw new Error(`The primary ${port} is not running`);
      const killedAt = Date.now();
      await stopProcess(primary.child, 'SIGKILL');
      primary.child = undefined;
      admins.drop(port);
      const newPrimaryPort = await wait(
        FAILOVER_TIMEOUT,
        `a replica of ${port} to take over`,
        async () => {
          const named = new Set<number>();
          for (const { port: sentinelPort } of liveSentinels()) {
            const reply = (await admin(sentinelPort).call(
              'SENTINEL',
              'GET-MASTER-ADDR-BY-NAME',
              MASTER_NAME,
            )) as [string, string];
            named.add(Number(reply[1]));
          }
          const [promoted] = named;
          if (named.size !== 1 || promoted === port) {
            throw new Error(`the sentinels name ${[...named].join(' and ')} as primary`);
          }
          const [role] = (await admin(promoted!).call('ROLE')) as [string];
          if (role !== 'master') throw new Error(`${promoted} answers ROLE ${role}`);
          return promoted!;
        },
      );
      const failoverMs = Date.now() - killedAt;
      const others = servers.filter(
        (server) => server.child !== undefined && server.port !== newPrimaryPort,
      );
      await wait(REJOIN_TIMEOUT, `the replicas to follow ${newPrimaryPort}`, async () => {
        for (const other of others) await checkReplicating(other.port, newPrimaryPort);
        await checkSentinels(
          newPrimaryPort,
          others.map((other) => other.port),
        );
        return true;
      });
      return { port, newPrimaryPort, failoverMs };
    },
    async restart(port) {
      const server = servers.find((candidate) => candidate.port === port);
      if (server === undefined) throw new Error(`Server ${port} is not one of the setup's`);
      if (server.child !== undefined) throw new Error(`Server ${port} is still running`);
      // Back as the replica it now is: started as an empty primary, it would be one until
      // the sentinels notice and turn it into a replica, seconds later.
      const current = await primaryPort();
      if (!(await launchServer(server, current))) {
        throw new Error(`Another process took server ${port}'s port`);
      }
      const replicaPorts = servers
        .filter((other) => other.child !== undefined && other.port !== current)
        .map((other) => other.port);
      await wait(REJOIN_TIMEOUT, `server ${port} to rejoin`, async () => {
        await checkReplicating(port, current);
        await checkSentinels(current, replicaPorts);
        return true;
      });
    },
    stop,
  };
}

/** A test file's sentinel setup: started before its first test, stopped after its last. */
export function useRedisSentinel(options: StartSentinelOptions = {}): {
  readonly sentinel: TestSentinel;
} {
  let started: TestSentinel | undefined;
  before(async () => {
    started = await startSentinel(options);
  });
  after(() => started?.stop());
  return {
    get sentinel() {
      if (started === undefined)
        throw new Error('The test sentinel setup is used before its before() hook ran');
      return started;
    },
  };
}
