import { escapeRegExp } from '../regexp.js';
import { sipRequest, type UdpPeer } from '../udp-peer.js';
import type { RoutingQuestion } from './drouting-sample.js';

/** One gateway as a routing decision offers it: its id, the carrier it came through ('' when direct), the Request-URI user sent to it. */
export interface OfferedGateway {
  gwid: string;
  carrierid: string;
  user: string;
}

/** What one side decided for a number and group. */
export type RoutingAnswer =
  | { outcome: 'routed'; ruleId: number; gateways: OfferedGateway[] }
  | { outcome: 'no-gateway'; ruleId: number }
  | { outcome: 'no-rule' };

let asked = 0;

/**
 * Asks the OpenSIPS running routingScript (opensips-process.ts) where a
 * number goes: a MESSAGE whose Request-URI user is the number, with the
 * group and flags in the X-Group and X-Flags headers; its answer read back. undefined when no
 * answer came within `timeoutMs`.
 */
export async function askOpenSips(
  peer: UdpPeer,
  to: { address: string; port: number },
  question: RoutingQuestion,
  timeoutMs = 1000,
): Promise<RoutingAnswer | undefined> {
  asked++;
  const { address, port } = peer.address;
  const callId = `diff-${asked}-${process.pid}@${address}`;
  const uri = `sip:${question.number}@${to.address}:${to.port}`;
  peer.send(
    sipRequest([
      `MESSAGE ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${address}:${port};branch=z9hG4bK-diff-${asked}-${process.pid}`,
      'Max-Forwards: 70',
      `From: <sip:differential@${address}>;tag=d${asked}`,
      `To: <${uri}>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 MESSAGE',
      `X-Group: ${question.group}`,
      `X-Flags: ${question.flags}`,
    ]),
    to,
  );
  const response = await peer.receive(new RegExp(`Call-ID: ${escapeRegExp(callId)}\\r\\n`), timeoutMs);
  return response === undefined ? undefined : readAnswer(response);
}

/** The answer in a response of routingScript. */
export function readAnswer(response: string): RoutingAnswer {
  const status = /^SIP\/2\.0 (\d{3})/.exec(response)?.[1];
  const header = (name: string) => new RegExp(`^${name}:[ \\t]*(.*?)\\r?$`, 'mi').exec(response)?.[1];
  const rule = Number(header('X-Rule'));
  if (status === '404') return { outcome: 'no-rule' };
  if (status === '480') return { outcome: 'no-gateway', ruleId: rule };
  if (status !== '200')
    throw new Error(`OpenSIPS answered ${status ?? 'something that is not a response'}:\n${response}`);
  const gateways = (header('X-Gateways') ?? '').split(',').map((entry) => {
    const [gwid = '', carrierid = '', user = ''] = entry.split('/');
    return { gwid, carrierid, user };
  });
  return { outcome: 'routed', ruleId: rule, gateways };
}
