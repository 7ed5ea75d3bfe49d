import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_DATABASE, seedLabData, SLOW_GATEWAY_PREFIX } from './lab-data.js';
import { LabKeepalived } from './lab-keepalived.js';
import { ADMIN_PORT, LabNode } from './lab-node.js';
import { LabSipp, type LabSippOptions } from './lab-sipp.js';
import { LabNetwork, type Namespace, processAlive } from './namespaces.js';
import { PrivateMariaDb, PrivateRedis } from './private-services.js';
import { waitFor } from '../wait-for.js';

/**
 * The HA lab: two sip-drouter nodes (a, b) behind a keepalived virtual IP,
 * their private MariaDB and Redis, and the phones and gateways (sipp), each
 * group in a namespace of its own on one bridge. 198.18.0.0/24 throughout.
 */

export const LAB = {
  services: '198.18.0.2',
  virtualIp: '198.18.0.10',
  a: '198.18.0.11',
  b: '198.18.0.12',
  /** The 200 phones (one sipp). */
  phones: '198.18.0.21',
  /** The REGISTER load. */
  registerLoad: '198.18.0.22',
  /** The call load towards the gateways. */
  callLoad: '198.18.0.23',
  /** A stand-in Asterisk calling the phones. */
  asterisk: '198.18.0.24',
  gateway1: '198.18.0.31',
  gateway2: '198.18.0.32',
  /** A gateway that rings a while before it answers. */
  gateway3: '198.18.0.33',
} as const;

const PREFIX = '/24';
/** A locally administered MAC no lab interface has. */
const NOWHERE_MAC = '02:00:5e:00:de:ad';
export const SIP_TARGET = `${LAB.virtualIp}:5060`;
export type NodeName = 'a' | 'b';

/** Short enough to see a failover and a takeover of the singleton work within a few seconds. */
const PROBE_INTERVAL_MS = 500;
const LEASE = { ttlMs: 3000, renewIntervalMs: 1000 };

export interface HaLab {
  dir: string;
  network: LabNetwork;
  redis: PrivateRedis;
  mariadb: PrivateMariaDb;
  nodes: Record<NodeName, LabNode>;
  keepalived: Record<NodeName, LabKeepalived>;
  /** The phones', the load's and the gateways' namespace. */
  peers: Namespace;
  probeIntervalMs: number;
  /** A sipp in the peers' namespace, stopped by close() if still running. */
  sipp(options: LabSippOptions): LabSipp;
  /** Which node's namespace holds the virtual IP now. */
  virtualIpHolders(): Promise<NodeName[]>;
  /**
   * Cuts the nodes off from each other, or joins them again: a split brain
   * on demand. Each node gets a permanent neighbour entry giving the other's
   * address a MAC that nobody has, so their unicast VRRP adverts (the only
   * traffic between them) go nowhere; everything else still reaches both.
   * (A blackhole route would not do: keepalived sends bound to the
   * interface, which skips it; tc and nft filters need tools or modules the
   * machine may lack.)
   */
  separateNodes(separated: boolean): Promise<void>;
  /** Everything stopped, the namespaces deleted, the files removed; safe to call after a failed start. */
  close(): Promise<void>;
}

/** What the lab runs, besides node: each must be on the PATH. */
const LAB_COMMANDS = ['ip', 'keepalived', 'redis-server', 'mariadbd', 'mariadb-install-db', 'sipp'];

/**
 * The lab needs root (namespaces) and the commands above. Without them the
 * HA tests are skipped (the reason returned), unless DROUTER_TEST_HA is set
 * (as .ci/run sets it): then a missing piece is a failure naming it.
 */
export function haLabMissing(): string {
  const missing = LAB_COMMANDS.filter((command) => spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0);
  if (process.getuid?.() !== 0) missing.unshift('root');
  if (missing.length > 0 && process.env.DROUTER_TEST_HA) throw new Error(`DROUTER_TEST_HA is set but the HA lab lacks: ${missing.join(', ')}`);
  return missing.length === 0 ? '' : `the HA lab lacks: ${missing.join(', ')}`;
}

/** The lab's files live in sipdr-ha-<pid>-XXXXXX under the temporary folder. */
const DIR_PREFIX = 'sipdr-ha-';

export async function startHaLab(): Promise<HaLab> {
  removeStaleLabDirs();
  const dir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  const started: { close(): Promise<void> }[] = [];
  const sipps: LabSipp[] = [];
  let network: LabNetwork | undefined;
  const close = async () => {
    for (const sipp of sipps) await sipp.stop();
    for (const thing of started.reverse()) await thing.close().catch(() => undefined);
    await network?.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    network = await LabNetwork.create([
      { name: 'services', addresses: [`${LAB.services}${PREFIX}`] },
      { name: 'a', addresses: [`${LAB.a}${PREFIX}`], nonlocalBind: true },
      { name: 'b', addresses: [`${LAB.b}${PREFIX}`], nonlocalBind: true },
      { name: 'peers', addresses: [LAB.phones, LAB.registerLoad, LAB.callLoad, LAB.asterisk, LAB.gateway1, LAB.gateway2, LAB.gateway3].map((a) => `${a}${PREFIX}`) },
    ]);
    const services = network.host('services');
    const [redis, mariadb] = await Promise.all([PrivateRedis.create(services, dir, LAB.services), PrivateMariaDb.create(services, dir, LAB.services)]);
    started.push({ close: () => redis.stop('SIGKILL') }, { close: () => mariadb.stop('SIGKILL') });
    await seedLabData(mariadb, [
      { gwid: '1', address: `${LAB.gateway1}:5060` },
      { gwid: '2', address: `${LAB.gateway2}:5060` },
    ], { prefix: SLOW_GATEWAY_PREFIX, gateway: { gwid: '3', address: `${LAB.gateway3}:5060` } });

    const peers = network.host('peers');
    const sipp = (options: LabSippOptions) => {
      const run = LabSipp.start(peers, dir, options);
      sipps.push(run);
      return run;
    };

    const nodes = {
      a: new LabNode('a', network.host('a'), dir, nodeConfig('a', dir, redis, mariadb)),
      b: new LabNode('b', network.host('b'), dir, nodeConfig('b', dir, redis, mariadb)),
    };
    started.push({ close: () => nodes.a.kill() }, { close: () => nodes.b.kill() });
    // One after the other: two first starts at once race to create knex's migration tables.
    await nodes.a.start();
    await nodes.b.start();

    const keepalived = {
      a: new LabKeepalived(network.host('a'), dir, keepalivedValues('a', LAB.a, LAB.b, 150, nodes.a.configFile)),
      b: new LabKeepalived(network.host('b'), dir, keepalivedValues('b', LAB.b, LAB.a, 100, nodes.b.configFile)),
    };
    started.push({ close: () => keepalived.a.stop() }, { close: () => keepalived.b.stop() });
    // a first, so that it is MASTER before b listens: both start as BACKUP and
    // the first to hear nobody for 3 adverts takes the address.
    keepalived.a.start();
    await waitFor('keepalived to give node a the virtual IP', 10_000, async () => ((await network?.host('a').holds(LAB.virtualIp)) ? true : undefined));
    keepalived.b.start();

    const lab: HaLab = {
      dir,
      network,
      redis,
      mariadb,
      nodes,
      keepalived,
      peers,
      probeIntervalMs: PROBE_INTERVAL_MS,
      sipp,
      async virtualIpHolders() {
        const holders: NodeName[] = [];
        for (const name of ['a', 'b'] as const) if (await nodes[name].namespace.holds(LAB.virtualIp)) holders.push(name);
        return holders;
      },
      async separateNodes(separated) {
        for (const [node, other] of [[nodes.a, LAB.b], [nodes.b, LAB.a]] as const) {
          if (separated) await node.namespace.ip('neigh', 'replace', other, 'lladdr', NOWHERE_MAC, 'dev', 'eth0', 'nud', 'permanent');
          else await node.namespace.ip('neigh', 'del', other, 'dev', 'eth0');
        }
      },
      close,
    };
    return lab;
  } catch (error) {
    await close();
    throw error;
  }
}

/** Folders of labs whose test process died before its close() (the MariaDB data alone is some 30 MB). */
function removeStaleLabDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    const owner = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(name)?.[1];
    if (owner === undefined || (Number(owner) !== process.pid && processAlive(Number(owner)))) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

/** A node's configuration: SIP on the virtual IP, the shared store and cache, the ha keys. */
function nodeConfig(name: NodeName, dir: string, redis: PrivateRedis, mariadb: PrivateMariaDb): Record<string, unknown> {
  return {
    sip: { address: LAB.virtualIp, port: 5060, transports: ['udp', 'tcp'] },
    admin: { address: '127.0.0.1', port: ADMIN_PORT },
    store: { url: mariadb.url(LAB_DATABASE), seedExample: false },
    cache: { url: redis.url },
    // The phones of the lab are in no dr_groups row.
    routing: { defaultGroup: 0 },
    proxy: { timeoutMs: 1000 },
    // The call load stands for phones behind an SBC, the stand-in Asterisk for a PBX: both trusted, as
    // auth.trustedSources (docs/security.md "Who may call"); the lab is about the failover, not the challenge.
    auth: { trustedSources: [LAB.callLoad, LAB.asterisk] },
    // The lab's phones and REGISTER load are hundreds of phones at one address each (sipp): exempt from the
    // per-source rates (docs/security.md "Under attack"), as an office NAT would be.
    limits: { exemptSources: [LAB.phones, LAB.registerLoad] },
    // The lab's nodes share two cores with MariaDB, Redis, keepalived and sipp: a scheduling stall there is not an overload.
    overload: { enabled: false },
    // The same nonce secret on both nodes: a challenge from one verifies on the other. sipp answers MD5 only.
    // minExpiresSeconds 1: the brief registrations of the sweep test.
    registrar: { nonceSecret: 'ha-lab-shared-nonce-secret', algorithms: ['MD5'], minExpiresSeconds: 1, sweepIntervalMs: 500 },
    probe: { enabled: true, intervalMs: PROBE_INTERVAL_MS, timeoutMs: 400 },
    ha: { nodeName: name, lease: LEASE, keepalivedStateFile: join(dir, `keepalived-state-${name}`) },
    log: { level: 'info' },
  };
}

function keepalivedValues(name: NodeName, own: string, peer: string, priority: number, config: string) {
  return { nodeName: name, interface: 'eth0', sourceIp: own, peer, virtualIp: `${LAB.virtualIp}${PREFIX}`, priority, config };
}
