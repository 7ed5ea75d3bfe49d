import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { type Lab, LAB_LEASE, LAB_PREFIX, labNodeConfig, SERVICES_ADDRESS, startLab, startLabNodes } from './lab.js';
import { seedLabData, SLOW_GATEWAY_PREFIX } from './lab-data.js';
import { LabKeepalived } from './lab-keepalived.js';
import type { LabNode } from './lab-node.js';
import { waitFor } from '../wait-for.js';

/**
 * The HA lab: two sip-drouter nodes (a, b) behind a keepalived virtual IP,
 * their private MariaDB and Redis, and the phones and gateways (sipp), each
 * group in a namespace of its own on one bridge. 198.18.0.0/24 throughout.
 */

export const LAB = {
  services: SERVICES_ADDRESS,
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

/** A locally administered MAC no lab interface has. */
const NOWHERE_MAC = '02:00:5e:00:de:ad';
export const SIP_TARGET = `${LAB.virtualIp}:5060`;
export type NodeName = 'a' | 'b';

/** Short enough to see a failover and a takeover of the probing within a few seconds. */
const PROBE_INTERVAL_MS = 500;

export interface HaLab extends Lab {
  nodes: Record<NodeName, LabNode>;
  keepalived: Record<NodeName, LabKeepalived>;
  probeIntervalMs: number;
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
  if (missing.length > 0 && process.env.DROUTER_TEST_HA)
    throw new Error(`DROUTER_TEST_HA is set but the HA lab lacks: ${missing.join(', ')}`);
  return missing.length === 0 ? '' : `the HA lab lacks: ${missing.join(', ')}`;
}

export async function startHaLab(): Promise<HaLab> {
  const lab = await startLab({
    nodes: [
      { name: 'a', addresses: [`${LAB.a}${LAB_PREFIX}`], nonlocalBind: true },
      { name: 'b', addresses: [`${LAB.b}${LAB_PREFIX}`], nonlocalBind: true },
    ],
    peers: [LAB.phones, LAB.registerLoad, LAB.callLoad, LAB.asterisk, LAB.gateway1, LAB.gateway2, LAB.gateway3],
    seed: (mariadb) =>
      seedLabData(
        mariadb,
        [
          { gwid: '1', address: `${LAB.gateway1}:5060` },
          { gwid: '2', address: `${LAB.gateway2}:5060` },
        ],
        { prefix: SLOW_GATEWAY_PREFIX, gateway: { gwid: '3', address: `${LAB.gateway3}:5060` } },
      ),
  });
  try {
    const nodes = await startLabNodes(lab, { a: nodeConfig(lab, 'a'), b: nodeConfig(lab, 'b') }, ['a', 'b']);
    const { network } = lab;
    const keepalived = {
      a: new LabKeepalived(network.host('a'), lab.dir, keepalivedValues('a', LAB.a, LAB.b, 150, nodes.a.configFile)),
      b: new LabKeepalived(network.host('b'), lab.dir, keepalivedValues('b', LAB.b, LAB.a, 100, nodes.b.configFile)),
    };
    lab.onClose(() => keepalived.a.stop());
    lab.onClose(() => keepalived.b.stop());
    // a first, so that it is MASTER before b listens: both start as BACKUP and
    // the first to hear nobody for 3 adverts takes the address.
    keepalived.a.start();
    await waitFor('keepalived to give node a the virtual IP', 10_000, async () =>
      (await network.host('a').holds(LAB.virtualIp)) ? true : undefined,
    );
    keepalived.b.start();

    return {
      ...lab,
      nodes,
      keepalived,
      probeIntervalMs: PROBE_INTERVAL_MS,
      async virtualIpHolders() {
        const holders: NodeName[] = [];
        for (const name of ['a', 'b'] as const)
          if (await nodes[name].namespace.holds(LAB.virtualIp)) holders.push(name);
        return holders;
      },
      async separateNodes(separated) {
        for (const [node, other] of [
          [nodes.a, LAB.b],
          [nodes.b, LAB.a],
        ] as const) {
          if (separated)
            await node.namespace.ip(
              'neigh',
              'replace',
              other,
              'lladdr',
              NOWHERE_MAC,
              'dev',
              'eth0',
              'nud',
              'permanent',
            );
          else await node.namespace.ip('neigh', 'del', other, 'dev', 'eth0');
        }
      },
    };
  } catch (error) {
    await lab.close();
    throw error;
  }
}

/** A node's configuration: SIP on the virtual IP, contending for the lease while keepalived calls it MASTER. */
function nodeConfig(lab: Lab, name: NodeName): Record<string, unknown> {
  return labNodeConfig(lab, {
    sipAddress: LAB.virtualIp,
    // The call load stands for phones behind an SBC, the stand-in Asterisk for a PBX: the lab is about the failover, not the challenge.
    trustedSources: [LAB.callLoad, LAB.asterisk],
    exemptSources: [LAB.phones, LAB.registerLoad],
    probe: { enabled: true, intervalMs: PROBE_INTERVAL_MS, timeoutMs: 400 },
    ha: { nodeName: name, lease: LAB_LEASE, keepalivedStateFile: join(lab.dir, `keepalived-state-${name}`) },
  });
}

function keepalivedValues(name: NodeName, own: string, peer: string, priority: number, config: string) {
  return {
    nodeName: name,
    interface: 'eth0',
    sourceIp: own,
    peer,
    virtualIp: `${LAB.virtualIp}${LAB_PREFIX}`,
    priority,
    config,
  };
}
