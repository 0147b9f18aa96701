/**
 * Test harness: a real Redis Cluster (masters with one replica each) and a real Sentinel set-up (a master, replicas
 * and three Sentinels), all Debian's `redis-server` (cluster mode, `--sentinel`) on free loopback ports in a temp
 * dir, supervised so nothing outlives the test (processes.ts). Both can lose their master (`killMaster`, like a
 * crash) and report when the failover is done, for tests of limits during a failover.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, logTail, type Proc, removeDirOnExit, startProcess, stopProcess } from './processes.js';
import { redisServerAvailable } from './redis.js';
import { waitFor } from './wait.js';

const BINARY = process.env.REDIS_SERVER ?? 'redis-server';
const CLI = process.env.REDIS_CLI ?? 'redis-cli';
// Replicas sync at once (no 5 s wait for more replicas to join a diskless transfer).
const BASE = [
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
  '--protected-mode',
  'no',
  '--repl-diskless-sync-delay',
  '0',
];

interface Node {
  port: number;
  proc: Proc;
}

/** One command to one node; the answer as ioredis gives it. */
async function ask(port: number, ...args: string[]): Promise<unknown> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000 });
  r.on('error', () => {}); // a node not up yet: the command fails, the caller polls again
  try {
    await r.connect();
    return await r.call(args[0] as string, ...args.slice(1));
  } finally {
    r.disconnect();
  }
}

const tryAsk = (port: number, ...args: string[]) => ask(port, ...args).catch(() => undefined);

async function serverUp(node: Node): Promise<void> {
  await waitFor(
    async () => {
      if (node.proc.exitCode !== undefined) throw new Error(`redis-server exited:\n${await logTail(node.proc)}`);
      return (await tryAsk(node.port, 'PING')) === 'PONG';
    },
    10_000,
    `redis-server on ${node.port}`,
    25,
  );
}

/** Waits until every replica among `ports` has its link to its master up (initial sync done). */
async function replicasInSync(ports: number[]): Promise<void> {
  await waitFor(
    async () => {
      for (const port of ports) {
        const info = String((await tryAsk(port, 'INFO', 'replication')) ?? '');
        if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false;
        if (!info.includes('role:')) return false;
      }
      return true;
    },
    30_000,
    'the replicas to finish their initial sync',
    50,
  );
}

function requireRedis(): void {
  if (!redisServerAvailable())
    throw new Error(`${BINARY} not found: install it (apt-get install -y redis-server) or set REDIS_SERVER`);
}

/** A running Redis Cluster. */
export interface TestRedisCluster {
  /** `redis+cluster://` URL naming every node. */
  url: string;
  /** Port of the master serving `key`'s slot now. */
  masterOf(key: string): Promise<number>;
  /** Kills the master of `key`'s slot and waits until its replica serves the slot; returns the old master's port. */
  killMasterOf(key: string): Promise<number>;
  close(): Promise<void>;
}

/** Starts `masters` masters with one replica each and joins them into a cluster (redis-cli --cluster create). */
export async function startRedisCluster(masters = 3): Promise<TestRedisCluster> {
  requireRedis();
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-rcluster-'));
  removeDirOnExit(dir);
  const nodes: Node[] = [];
  for (let i = 0; i < masters * 2; i++) {
    const port = await freePort();
    const bus = await freePort();
    const args = [
      '--port',
      String(port),
      '--cluster-enabled',
      'yes',
      '--cluster-port',
      String(bus),
      '--cluster-config-file',
      `nodes-${port}.conf`,
      '--cluster-node-timeout',
      '1000',
      '--cluster-replica-validity-factor',
      '0',
      ...BASE,
      '--dir',
      dir,
    ];
    nodes.push({ port, proc: startProcess(`node-${port}`, BINARY, args, dir) });
  }
  const close = async () => {
    await Promise.all(nodes.map((n) => stopProcess(n.proc)));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(nodes.map(serverUp));
    const create = startProcess(
      'create',
      CLI,
      ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'],
      dir,
    );
    const code = await create.exited;
    if (code !== 0) throw new Error(`redis-cli --cluster create failed:\n${await logTail(create)}`);
    await waitFor(
      async () => {
        for (const n of nodes) {
          const info = String((await tryAsk(n.port, 'CLUSTER', 'INFO')) ?? '');
          if (!info.includes('cluster_state:ok')) return false;
        }
        return true;
      },
      20_000,
      'the cluster to be ok on every node',
      50,
    );
    await replicasInSync(nodes.map((n) => n.port));
  } catch (e) {
    await close();
    throw e;
  }
  const alive = () => nodes.filter((n) => n.proc.exitCode === undefined);
  const masterOf = async (key: string): Promise<number> => {
    const slot = Number(await ask((alive()[0] as Node).port, 'CLUSTER', 'KEYSLOT', key));
    const slots = (await ask((alive()[0] as Node).port, 'CLUSTER', 'SLOTS')) as Array<
      [number, number, [string, number]]
    >;
    const range = slots.find(([from, to]) => from <= slot && slot <= to);
    if (!range) throw new Error(`no node serves slot ${slot}`);
    return Number(range[2][1]);
  };
  return {
    url: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    masterOf,
    async killMasterOf(key) {
      const port = await masterOf(key);
      const node = nodes.find((n) => n.port === port) as Node;
      await stopProcess(node.proc);
      await waitFor(
        async () => {
          const now = await masterOf(key).catch(() => port);
          if (now === port) return false;
          const info = String((await tryAsk(now, 'CLUSTER', 'INFO')) ?? '');
          return info.includes('cluster_state:ok');
        },
        30_000,
        `a replica to take over the slots of ${port}`,
        100,
      );
      return port;
    },
    close,
  };
}

/** A running Sentinel set-up. */
export interface TestRedisSentinel {
  /** `redis+sentinel://` URL naming the Sentinels and the master. */
  url: string;
  master: string;
  /** Port of the current master, as the Sentinels say. */
  masterPort(): Promise<number>;
  /** Kills the current master and waits until the Sentinels promoted a replica; returns the old master's port. */
  killMaster(): Promise<number>;
  close(): Promise<void>;
}

/** Starts a master, `replicas` replicas and three Sentinels (quorum 2, master down after 1 s). */
export async function startRedisSentinel(replicas = 2): Promise<TestRedisSentinel> {
  requireRedis();
  const master = 'switchyard';
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-rsentinel-'));
  removeDirOnExit(dir);
  const data: Node[] = [];
  const sentinels: Node[] = [];
  const close = async () => {
    await Promise.all([...data, ...sentinels].map((n) => stopProcess(n.proc)));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const masterPort = await freePort();
    for (let i = 0; i <= replicas; i++) {
      const port = i === 0 ? masterPort : await freePort();
      const args = ['--port', String(port), ...BASE, '--dir', dir, '--dbfilename', `dump-${port}.rdb`];
      if (i > 0) args.push('--replicaof', '127.0.0.1', String(masterPort));
      data.push({ port, proc: startProcess(`data-${port}`, BINARY, args, dir) });
    }
    await Promise.all(data.map(serverUp));
    await waitFor(
      async () =>
        String((await tryAsk(masterPort, 'INFO', 'replication')) ?? '').includes(`connected_slaves:${replicas}`),
      20_000,
      'the replicas to connect',
      50,
    );
    await replicasInSync(data.map((n) => n.port));
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = join(dir, `sentinel-${port}.conf`);
      await writeFile(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${master} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${master} 1000`,
          `sentinel failover-timeout ${master} 10000`,
          `sentinel parallel-syncs ${master} 1`,
          '',
        ].join('\n'),
      );
      sentinels.push({ port, proc: startProcess(`sentinel-${port}`, BINARY, [conf, '--sentinel'], dir) });
    }
    await Promise.all(sentinels.map(serverUp));
    await waitFor(
      async () => {
        for (const s of sentinels) {
          const r = (await tryAsk(s.port, 'SENTINEL', 'MASTER', master)) as string[] | undefined;
          const i = r?.indexOf('num-other-sentinels') ?? -1;
          if (i < 0 || Number(r?.[i + 1]) < 2) return false;
        }
        return true;
      },
      20_000,
      'the Sentinels to know each other',
      100,
    );
  } catch (e) {
    await close();
    throw e;
  }
  const masterPort = async () => {
    for (const s of sentinels) {
      const r = (await tryAsk(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', master)) as string[] | undefined;
      if (r?.[1]) return Number(r[1]);
    }
    throw new Error('no Sentinel answers');
  };
  return {
    url: `redis+sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${master}`,
    master,
    masterPort,
    async killMaster() {
      const port = await masterPort();
      await stopProcess((data.find((n) => n.port === port) as Node).proc);
      await waitFor(
        async () => {
          const now = await masterPort();
          if (now === port) return false;
          return String((await tryAsk(now, 'INFO', 'replication')) ?? '').includes('role:master');
        },
        30_000,
        'the Sentinels to promote a replica',
        100,
      );
      return port;
    },
    close,
  };
}
