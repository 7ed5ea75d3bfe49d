import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_DATABASE } from './lab-data.js';
import { ADMIN_PORT, LabNode } from './lab-node.js';
import { LabSipp, type LabSippOptions } from './lab-sipp.js';
import { type HostSpec, LabNetwork, type Namespace, processAlive } from './namespaces.js';
import { PrivateMariaDb, PrivateRedis } from './private-services.js';

/**
 * What every lab of test/support/ha-lab has, whatever stands in front of
 * its nodes (keepalived and a virtual IP, or nothing): the namespaces, the
 * private MariaDB and Redis in a services namespace, the sipp runs in a
 * peers namespace, the nodes' common configuration, and one close() that
 * stops all of it. 198.18.0.0/24 throughout.
 */

export const SERVICES_ADDRESS = '198.18.0.2';
export const LAB_PREFIX = '/24';
/** Short enough to see a takeover of the singleton work within a few seconds. */
export const LAB_LEASE = { ttlMs: 3000, renewIntervalMs: 1000 } as const;

export interface Lab {
  dir: string;
  network: LabNetwork;
  redis: PrivateRedis;
  mariadb: PrivateMariaDb;
  /** The phones', the load's and the gateways' namespace. */
  peers: Namespace;
  /** A sipp in the peers' namespace, stopped by close() if still running. */
  sipp(options: LabSippOptions): LabSipp;
  /** `stop` runs at close(), after the sipp runs and before what the lab started itself, latest first. */
  onClose(stop: () => Promise<void>): void;
  /** Everything stopped, the namespaces deleted, the files removed; safe to call after a failed start. */
  close(): Promise<void>;
}

export interface LabPlan {
  /** The nodes' namespaces, each with its own address(es). */
  nodes: readonly HostSpec[];
  /** The addresses of the peers' namespace (phones, loads, gateways). */
  peers: readonly string[];
  /** Rows for the database, once its tables are there. */
  seed(mariadb: PrivateMariaDb): Promise<void>;
}

/** The lab's files live in sipdr-ha-<pid>-XXXXXX under the temporary folder. */
const DIR_PREFIX = 'sipdr-ha-';

/** The network, the services with the plan's rows, the peers' namespace: no node runs yet. */
export async function startLab(plan: LabPlan): Promise<Lab> {
  removeStaleLabDirs();
  const dir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  const stops: (() => Promise<void>)[] = [];
  const sipps: LabSipp[] = [];
  let network: LabNetwork | undefined;
  const close = async () => {
    for (const sipp of sipps) await sipp.stop();
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await network?.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    network = await LabNetwork.create([
      { name: 'services', addresses: [`${SERVICES_ADDRESS}${LAB_PREFIX}`] },
      ...plan.nodes,
      { name: 'peers', addresses: plan.peers.map((address) => `${address}${LAB_PREFIX}`) },
    ]);
    const services = network.host('services');
    const [redis, mariadb] = await Promise.all([
      PrivateRedis.create(services, dir, SERVICES_ADDRESS),
      PrivateMariaDb.create(services, dir, SERVICES_ADDRESS),
    ]);
    stops.push(
      () => redis.stop('SIGKILL'),
      () => mariadb.stop('SIGKILL'),
    );
    await plan.seed(mariadb);
    const peers = network.host('peers');
    return {
      dir,
      network,
      redis,
      mariadb,
      peers,
      sipp(options) {
        const run = LabSipp.start(peers, dir, options);
        sipps.push(run);
        return run;
      },
      onClose: (stop) => stops.push(stop),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The nodes, each killed at close(), started one after the other in the
 * order given: two first starts at once race to create knex's migration
 * tables (and the first started takes the leader lease).
 */
export async function startLabNodes<Name extends string>(
  lab: Lab,
  configs: Readonly<Record<Name, Record<string, unknown>>>,
  order: readonly Name[],
): Promise<Record<Name, LabNode>> {
  const nodes = {} as Record<Name, LabNode>;
  for (const name of order) {
    const node = new LabNode(name, lab.network.host(name), lab.dir, configs[name]);
    lab.onClose(() => node.kill());
    nodes[name] = node;
  }
  for (const name of order) await nodes[name].start();
  return nodes;
}

export interface LabNodeOptions {
  /** Where SIP listens and what the node puts in its Via and Record-Route. */
  sipAddress: string;
  /** Callers let through without a challenge (auth.trustedSources). */
  trustedSources: readonly string[];
  /** Sources exempt from the per-source rates (limits.exemptSources). */
  exemptSources: readonly string[];
  probe: Record<string, unknown>;
  ha: Record<string, unknown>;
}

/** A node's configuration: the lab's shared store and cache, and what every lab's nodes set alike. */
export function labNodeConfig(lab: Lab, options: LabNodeOptions): Record<string, unknown> {
  return {
    sip: { address: options.sipAddress, port: 5060, transports: ['udp', 'tcp'] },
    admin: { address: '127.0.0.1', port: ADMIN_PORT },
    store: { url: lab.mariadb.url(LAB_DATABASE), seedExample: false },
    cache: { url: lab.redis.url },
    // The phones of the lab are in no dr_groups row.
    routing: { defaultGroup: 0 },
    proxy: { timeoutMs: 1000 },
    // The lab's trusted callers stand for phones behind an SBC or for a PBX (docs/security.md "Who may call").
    auth: { trustedSources: options.trustedSources },
    // The lab's sipp phones are many phones at one address each: exempt from the per-source rates
    // (docs/security.md "Under attack"), as an office NAT would be.
    limits: { exemptSources: options.exemptSources },
    // The lab's nodes share two cores with MariaDB, Redis, keepalived and sipp: a scheduling stall there is not an overload.
    overload: { enabled: false },
    // The same nonce secret on every node: a challenge from one verifies on the others. sipp answers MD5 only.
    // minExpiresSeconds 1: the brief registrations of the sweep test.
    registrar: {
      nonceSecret: 'ha-lab-shared-nonce-secret',
      algorithms: ['MD5'],
      minExpiresSeconds: 1,
      sweepIntervalMs: 500,
    },
    probe: options.probe,
    ha: options.ha,
    log: { level: 'info' },
  };
}

/** Folders of labs whose test process died before its close() (the MariaDB data alone is some 30 MB). */
function removeStaleLabDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    const owner = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(name)?.[1];
    if (owner === undefined || (Number(owner) !== process.pid && processAlive(Number(owner)))) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}
