import { LAB } from './ha-lab.js';
import { type Lab, LAB_LEASE, LAB_PREFIX, labNodeConfig, startLab, startLabNodes } from './lab.js';
import { seedLabData, SLOW_GATEWAY_PREFIX } from './lab-data.js';
import type { LabNode } from './lab-node.js';

/**
 * Three sip-drouter nodes active at once (issue 21's "N nodes"), with no
 * keepalived and no virtual IP: each node in its own namespace on its own
 * address, all on the lab's one MariaDB and Redis, every node contending
 * for the leader lease. Each node names itself in ha.nodeAddress, so a
 * call that reaches one node for a phone registered through another goes
 * to the phone through that other node. Phones, in one group a node,
 * register through their node from an address of their own.
 */

export type ActiveNodeName = 'a' | 'b' | 'c';
export const ACTIVE_NODES: readonly ActiveNodeName[] = ['a', 'b', 'c'];

export const ACTIVE_LAB = {
  nodes: { a: LAB.a, b: LAB.b, c: '198.18.0.13' },
  /** Each node's group of phones (sipp on :5060), and its callers (another sipp, another port). */
  phones: { a: '198.18.0.41', b: '198.18.0.42', c: '198.18.0.43' },
} as const satisfies Record<string, Record<ActiveNodeName, string>>;

/** Where a node takes SIP: its own address, port 5060 (its ha.nodeAddress, and the phones' target). */
export function sipTarget(node: ActiveNodeName): string {
  return `${ACTIVE_LAB.nodes[node]}:5060`;
}

export interface ActiveNodesLab extends Lab {
  nodes: Record<ActiveNodeName, LabNode>;
  /** The nodes that say, on their admin API's GET /ha, that they lead; a dead node says nothing. */
  leaders(): Promise<ActiveNodeName[]>;
}

/** The lab with its three nodes started one after the other in `order`: the first takes the leader lease. */
export async function startActiveNodesLab(order: readonly ActiveNodeName[] = ACTIVE_NODES): Promise<ActiveNodesLab> {
  const lab = await startLab({
    nodes: ACTIVE_NODES.map((name) => ({ name, addresses: [`${ACTIVE_LAB.nodes[name]}${LAB_PREFIX}`] })),
    peers: Object.values(ACTIVE_LAB.phones),
    // Gateways at addresses nobody holds: the calls of this lab go to phones, and no node probes.
    seed: (mariadb) =>
      seedLabData(mariadb, [{ gwid: '1', address: `${LAB.gateway1}:5060` }], {
        prefix: SLOW_GATEWAY_PREFIX,
        gateway: { gwid: '3', address: `${LAB.gateway3}:5060` },
      }),
  });
  try {
    const configs = { a: nodeConfig(lab, 'a'), b: nodeConfig(lab, 'b'), c: nodeConfig(lab, 'c') };
    const nodes = await startLabNodes(lab, configs, order);
    return {
      ...lab,
      nodes,
      async leaders() {
        const leading: ActiveNodeName[] = [];
        for (const name of ACTIVE_NODES) {
          if (!nodes[name].alive) continue;
          const answer = await nodes[name].admin('/ha');
          if (answer.status === 200 && (JSON.parse(answer.body) as { role: string }).role === 'leader')
            leading.push(name);
        }
        return leading;
      },
    };
  } catch (error) {
    await lab.close();
    throw error;
  }
}

/** SIP on the node's own address, which it also gives as ha.nodeAddress; no keepalived state file: every node contends. */
function nodeConfig(lab: Lab, name: ActiveNodeName): Record<string, unknown> {
  return labNodeConfig(lab, {
    sipAddress: ACTIVE_LAB.nodes[name],
    // The phones call each other with their credentials (407, then digest): nobody is trusted.
    trustedSources: [],
    // The nodes relay each other's calls: one node's traffic is no busy source to another (docs/ha.md "More than two nodes").
    exemptSources: [...Object.values(ACTIVE_LAB.phones), ...Object.values(ACTIVE_LAB.nodes)],
    probe: { enabled: false },
    ha: { nodeName: name, lease: LAB_LEASE, keepalivedStateFile: '', nodeAddress: sipTarget(name) },
  });
}
