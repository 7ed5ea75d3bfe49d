import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type Srf from 'drachtio-srf';
import { errorMessage } from '../../errors.js';
import type { OutgoingRequest, RequestOutcome } from '../engine.js';
import { transportParam } from './drachtio-proxy.js';
import type { SrfOutboundRequest } from './srf-shapes.js';

export interface OutgoingDeps {
  srf: Srf;
  now(): number;
  /** Resolves when the connection to drachtio-server is up (or the engine stopped). */
  whenConnected(): Promise<void>;
  connected(): boolean;
  /** What srf.request needs besides the request (inbound mode: the connection to send it on). */
  sendOptions(): object;
  /** Counts the request while it waits for its final (engine stats). */
  track(): () => void;
}

/**
 * A request of our own outside any dialog (the prober's OPTIONS), sent by
 * drachtio-server (srf.request): it adds Via, the From tag, Call-ID, CSeq
 * and Max-Forwards and runs the client transaction (retransmissions on UDP,
 * its own 32 s timer F). We stop waiting after `timeoutMs`, as the native
 * engine does; drachtio-server's transaction runs on unseen.
 *
 * While the connection to drachtio-server is down, the request waits for it
 * instead of failing: a node that lost its drachtio-server must not turn
 * every probe into a failure and mark every gateway down in the cache the
 * nodes share.
 */
export async function sendOutgoing(
  deps: OutgoingDeps,
  request: OutgoingRequest,
  options: { timeoutMs: number },
): Promise<RequestOutcome> {
  // Names are resolved here, as the native engine does: an unresolvable gateway is "not sent", not a 503 from the server.
  let address = request.destination.address;
  if (isIP(address) === 0) {
    try {
      address = (await lookup(address)).address;
    } catch (error) {
      return { kind: 'send-failed', error: errorMessage(error) };
    }
  }
  await deps.whenConnected();
  if (!deps.connected()) return { kind: 'send-failed', error: 'the SIP engine is stopped' };

  const host = isIP(address) === 6 ? `[${address}]` : address;
  const transport = transportParam(request.destination.transport);
  const untrack = deps.track();
  const startedAt = deps.now();
  try {
    return await new Promise<RequestOutcome>((resolve) => {
      const timer = setTimeout(() => resolve({ kind: 'timeout', rttMs: deps.now() - startedAt }), options.timeoutMs);
      const settle = (outcome: RequestOutcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      const opts = {
        ...deps.sendOptions(),
        method: request.method,
        headers: { From: `<${request.from}>` },
        // drachtio-srf passes `proxy` to drachtio-server as the next hop (not in its typings).
        proxy: `sip:${host}:${request.destination.port}${transport}`,
      };
      // The callback form, not the Promise: drachtio-srf emits 'response' on the request in the same turn as it
      // hands the request over when both arrive in one read, before a Promise continuation could listen.
      const send = deps.srf.request.bind(deps.srf) as unknown as (
        uri: string,
        opts: object,
        callback: (err: unknown, sent: SrfOutboundRequest) => void,
      ) => void;
      try {
        send(request.uri, opts, (err, sent) => {
          if (err) {
            settle({
              kind: 'send-failed',
              error: `drachtio-server did not send it: ${errorMessage(err)}`,
            });
            return;
          }
          sent.on('response', (res) => {
            if (res.status < 200) return;
            const rttMs = deps.now() - startedAt;
            if (res.source_address) {
              settle({ kind: 'response', status: res.status, reason: res.reason ?? '', rttMs });
              return;
            }
            // Made by drachtio-server itself, not the gateway: its timer F (a timeout, as the native engine
            // would see it), or a transport error such as an ICMP port unreachable (503 at once).
            if (res.status === 408) settle({ kind: 'timeout', rttMs });
            else
              settle({
                kind: 'send-failed',
                error: `drachtio-server could not deliver it (${res.status} ${res.reason ?? ''} from drachtio-server itself)`,
              });
          });
        });
      } catch (error) {
        // The connection went between the check above and now.
        settle({
          kind: 'send-failed',
          error: `not sent to drachtio-server: ${errorMessage(error)}`,
        });
      }
    });
  } finally {
    untrack();
  }
}
