import { sampleValue } from '../exposition.js';
import type { LabNode } from './lab-node.js';
import type { LabSipp } from './lab-sipp.js';
import type { PrivateMariaDb, PrivateRedis } from './private-services.js';
import { LAB_DATABASE } from './lab-data.js';

/**
 * What the HA tests read back after an action: the sippeers rows, the
 * bindings in Redis, what each gateway received and when, a node's metrics.
 */

export interface RegistrationRow {
  name: string;
  ipaddr: string;
  port: number;
  regseconds: number;
  fullcontact: string;
}

/** A sippeers row as MariaDB gives the registration columns (NULL where never registered). */
type SippeersRegistration = Record<string, unknown> & {
  name: string;
  ipaddr: string | null;
  port: number | null;
  regseconds: number | null;
  fullcontact: string | null;
};

/** The registration columns of these peers' sippeers rows, by name. */
export async function registrationRows(
  mariadb: PrivateMariaDb,
  names: readonly string[],
): Promise<Map<string, RegistrationRow>> {
  const rows = (await mariadb.query(
    'SELECT name, ipaddr, port, regseconds, fullcontact FROM sippeers WHERE name IN (?)',
    [names],
    LAB_DATABASE,
  )) as SippeersRegistration[];
  return new Map(
    rows.map((row) => [
      String(row.name),
      {
        name: String(row.name),
        ipaddr: String(row.ipaddr ?? ''),
        port: Number(row.port ?? 0),
        regseconds: Number(row.regseconds ?? 0),
        fullcontact: String(row.fullcontact ?? ''),
      },
    ]),
  );
}

/** Every binding list in Redis, raw as stored, by the key's AoR part (sipdr:bindings:<aor>). */
export async function storedBindings(redis: PrivateRedis): Promise<Map<string, string>> {
  const client = redis.client();
  try {
    const keys: string[] = [];
    for await (const batch of client.scanStream({ match: 'sipdr:bindings:*', count: 1000 }) as AsyncIterable<string[]>)
      keys.push(...batch);
    const values = keys.length > 0 ? await client.mget(...keys) : [];
    return new Map(keys.map((key, index) => [key.slice('sipdr:bindings:'.length), values[index] ?? '']));
  } finally {
    client.disconnect();
  }
}

export interface GatewayEvent {
  method: 'OPTIONS' | 'INVITE';
  atMs: number;
}

/** What a gateway (test/sipp/gateway.xml) received: its log lines "METHOD date<TAB>time<TAB>epoch-seconds ...". */
export function gatewayEvents(gateway: LabSipp): GatewayEvent[] {
  return gateway.logLines().flatMap((line) => {
    const method = line.split(' ')[0];
    const epoch = Number(line.split('\t')[2]?.split(' ')[0]);
    if ((method !== 'OPTIONS' && method !== 'INVITE') || !Number.isFinite(epoch)) return [];
    return [{ method, atMs: epoch * 1000 }];
  });
}

/** How many `method` requests the gateway received in [fromMs, toMs). */
export function received(
  gateway: LabSipp,
  method: GatewayEvent['method'],
  fromMs: number,
  toMs = Number.POSITIVE_INFINITY,
): number {
  return gatewayEvents(gateway).filter((event) => event.method === method && event.atMs >= fromMs && event.atMs < toMs)
    .length;
}

/** One series of a node's /metrics, 0 when it is not exposed (a counter never incremented). */
export async function metric(node: LabNode, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sampleValue(await node.metrics(), name, labels) ?? 0;
}

/**
 * OPTIONS probes this node sent to a gateway: the answered ones
 * (sipdr_probe_rtt_seconds_count, a negative reply included) and those
 * that got no answer (timeout) or could not be sent.
 */
export async function probesSent(node: LabNode, gwid: string): Promise<number> {
  const families = await node.metrics();
  const count = (name: string, labels: Record<string, string>) =>
    sampleValue(families, name, { gateway: gwid, ...labels }) ?? 0;
  return (
    count('sipdr_probe_rtt_seconds_count', {}) +
    count('sipdr_probe_failures_total', { reason: 'timeout' }) +
    count('sipdr_probe_failures_total', { reason: 'send-failed' })
  );
}

/** An INVITE a phone answered (test/sipp/uas-answer.xml's log line): who sent it, and who Record-Routed it. */
export interface AnsweredInvite {
  callId: string;
  /** The sent-by (address:port) of the top Via: the node that sent the INVITE to the phone. */
  sentBy: string;
  /** The host:port of each Record-Route entry, top first. */
  recordRoute: string[];
}

/** Every INVITE that `phones` (a sipp answering with uas-answer.xml) logged. */
export function answeredInvites(phones: LabSipp): AnsweredInvite[] {
  return phones.logLines().flatMap((line) => {
    const [head = '', via = '', recordRoute = ''] = line.split(' | ');
    const callId = /^answering Call-ID: *(\S+)/.exec(head)?.[1];
    if (callId === undefined) return [];
    return [
      {
        callId,
        sentBy: /^Via: *SIP\/2\.0\/\w+ +([^;,\s]+)/i.exec(via)?.[1] ?? '',
        recordRoute: [...recordRoute.matchAll(/<sips?:(?:[^@>]*@)?([^;>]+)/g)].map((match) => match[1] ?? ''),
      },
    ];
  });
}
