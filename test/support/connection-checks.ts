import type { TestServer } from './drouter-server.js';
import { parseExposition, sampleValue } from './exposition.js';
import { statusOf } from './registering-phone.js';
import type { TcpPeer } from './tcp-peer.js';
import { sipRequest } from './udp-peer.js';

/** What the connection tests (TCP and TLS: tcp-limits, tls-transport) ask of the proxy's connections. */

let requestNumber = 0;

/** An OPTIONS to the proxy from `peer` on `from`, its Via naming the peer's `transport` (TCP, TLS). */
export function optionsOver(
  peer: TcpPeer,
  from: string,
  server: TestServer,
  { transport = 'TCP', extra = [], body = '' }: { transport?: string; extra?: readonly string[]; body?: string } = {},
): string {
  requestNumber++;
  return sipRequest(
    [
      `OPTIONS sip:${server.sip.address} SIP/2.0`,
      `Via: SIP/2.0/${transport} ${from}:${peer.localPort};branch=z9hG4bK-stream-${requestNumber}`,
      'Max-Forwards: 70',
      `From: <sip:probe@${from}>;tag=t${requestNumber}`,
      `To: <sip:${server.sip.address}>`,
      `Call-ID: stream-${requestNumber}@${from}`,
      `CSeq: ${requestNumber} OPTIONS`,
      ...extra,
    ],
    body,
  );
}

/**
 * The status of the answer to an OPTIONS over a new connection `connect` makes from `from` (closed after);
 * undefined when the connection was closed first, or could not be made.
 */
export async function optionsOverNewConnection(
  connect: () => Promise<TcpPeer>,
  from: string,
  server: TestServer,
  transport = 'TCP',
): Promise<number | undefined> {
  const peer = await connect().catch(() => undefined);
  if (!peer) return undefined;
  try {
    peer.send(optionsOver(peer, from, server, { transport }));
    // A connection turned away by a cap is closed unanswered: no need to wait out the receive.
    return statusOf(
      await Promise.race([peer.receive(/^SIP\/2\.0 \d{3} /m, 2000), peer.closed().then(() => undefined)]),
    );
  } finally {
    peer.close();
  }
}

/** Milliseconds until the server closed `peer`, or undefined when it was still open after `withinMs`. */
export async function closedWithin(peer: TcpPeer, withinMs: number, since = Date.now()): Promise<number | undefined> {
  const closedAt = peer.closed().then(() => Date.now() - since);
  return Promise.race([closedAt, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), withinMs))]);
}

/** A sample of the proxy's /metrics. */
export async function metricValue(
  server: TestServer,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  return sampleValue(parseExposition(await (await fetch(`${server.server.adminUrl}/metrics`)).text()), name, labels);
}

/** How much the proxy's `name{labels}` grew while `action` ran (an absent sample counts as 0). */
export async function metricGrowth<T>(
  server: TestServer,
  name: string,
  labels: Record<string, string>,
  action: () => Promise<T>,
): Promise<{ result: T; by: number }> {
  const before = (await metricValue(server, name, labels)) ?? 0;
  const result = await action();
  return { result, by: ((await metricValue(server, name, labels)) ?? 0) - before };
}
