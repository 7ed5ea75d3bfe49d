import type { ProxyOptions, ProxyResult, ProxyTarget, Transport } from '../engine.js';
import { endpointOfText, hostText } from '../core/endpoint.js';
import { formatSipUri, parseSipUri } from '../core/uri.js';
import { type ProxyEnd, ProxyLedger, statusLine } from './core/proxy-ledger.js';
import type { SrfInboundRequest } from './srf-shapes.js';

/** drachtio-server copies destinations into a fixed array of 10 (sip-proxy-controller.hpp MAX_DESTINATIONS) without a bound check. */
export const MAX_DESTINATIONS = 10;

/** drachtio-server's timer C (drachtio.h TIMER_C_MSECS): the longest a ringing destination is left to ring. */
const TIMER_C_MS = 185_000;

/** A proxy operation in flight, as the engine tracks it (for stats, and to end it when the connection goes). */
export interface RunningProxy {
  readonly invite: boolean;
  end(end: 'lost'): void;
}

/**
 * Where drachtio-server sends one target, as one URI: drachtio-server takes the
 * destination URI both as the next hop and (when the caller addressed
 * drachtio-server itself) as the new Request-URI, so a target whose
 * Request-URI already points at its destination goes as it is; one that must
 * go elsewhere (a registered contact behind NAT, reached at the address its
 * REGISTER came from) goes to that address, keeping its user part.
 */
export function destinationUri(target: ProxyTarget): string {
  const hop = endpointOfText(target.uri);
  const { destination } = target;
  if (
    hop &&
    hop.address === destination.address &&
    hop.port === destination.port &&
    hop.transport === destination.transport
  )
    return target.uri;
  const parsed = parseSipUri(target.uri);
  const host = hostText(destination.address);
  if (!parsed.ok) return `sip:${host}:${destination.port}${transportParam(destination.transport)}`;
  const params = parsed.uri.params.filter((param) => param.name.toLowerCase() !== 'transport');
  if (destination.transport !== 'udp') params.push({ name: 'transport', value: destination.transport });
  return formatSipUri({ ...parsed.uri, host, port: destination.port, params });
}

/** The URI parameter that makes drachtio-server (sofia) send over `transport`: none for UDP, its default. */
export function transportParam(transport: Transport): string {
  return transport === 'udp' ? '' : `;transport=${transport}`;
}

export interface ProxyRunDeps {
  now(): number;
  /** Registers the operation while it runs; returns the way to unregister it. */
  track(running: RunningProxy): () => void;
}

/**
 * Hands the request to drachtio-server's proxy (serial forking, Record-Route
 * when asked, the provisional timeout from `noResponseTimeoutMs`) and reports
 * each destination's end as drachtio-server relays it. drachtio-server does
 * the transactions, the 100 Trying, relaying, CANCEL, failover and the choice
 * of the response upstream, so there is no ForkControl to apply: the engine
 * port's ServerForkExchange refuses it (src/sip/engine.ts; docs/engines.md,
 * "Where it differs"). Each report carries what drachtio-server did next
 * (ProxyLedger).
 *
 * Uses the agent's `proxy` command directly rather than Request#proxy: that
 * one reports only at the end, and groups responses by a test on the port
 * that merges two destinations on one address (request.js: `port ===`).
 */
export function proxyThroughDrachtio(
  request: SrfInboundRequest,
  targets: readonly ProxyTarget[],
  options: ProxyOptions,
  deps: ProxyRunDeps,
): Promise<ProxyResult> {
  const used = targets.slice(0, MAX_DESTINATIONS);
  const ledger = new ProxyLedger(used, deps.now(), options.noResponseTimeoutMs);
  return new Promise<ProxyResult>((resolve) => {
    let finished = false;
    const finish = (end: ProxyEnd): void => {
      if (finished) return;
      finished = true;
      clearTimeout(watchdog);
      untrack();
      const { added, result } = ledger.end(end);
      for (const report of added) options.onAttempt?.(report);
      resolve(result);
    };
    // drachtio-server never says `done` when a CANCEL meets a destination that has not answered
    // at all (it stops waiting without a word): give up once no destination can still be going.
    const watchdog = setTimeout(
      () => finish({ kind: 'gave-up', atMs: deps.now() }),
      used.length * (options.noResponseTimeoutMs + TIMER_C_MS),
    );
    watchdog.unref();
    const untrack = deps.track({
      invite: request.method === 'INVITE',
      end: () => finish({ kind: 'lost', atMs: deps.now() }),
    });
    if (used.length === 0) {
      finish({ kind: 'refused', atMs: deps.now(), status: 500 });
      return;
    }
    const command = {
      destination: used.map(destinationUri),
      stackTxnId: request.stackTxnId,
      remainInDialog: options.recordRoute,
      provisionalTimeout: `${Math.round(options.noResponseTimeoutMs)}ms`,
      // Ignored by drachtio-server v0.9.4 (only the provisional timeout is read); sent empty as drachtio-srf does.
      finalTimeout: '',
      followRedirects: false,
      simultaneous: false,
      fullResponse: true,
    };
    try {
      request.agent.proxy(request, command, (token, rawMsg, meta) => {
        if (finished) return;
        if (token[0] === 'NOK') {
          // It answered the caller itself: 483 for Max-Forwards 0, else 500 (SipProxyController::doProxy).
          finish({ kind: 'refused', atMs: deps.now(), status: /483/.test(token[1] ?? '') ? 483 : 500 });
          return;
        }
        if (token[1] === 'done') {
          finish({ kind: 'done', atMs: deps.now() });
          return;
        }
        const line = statusLine(rawMsg);
        if (!line) return;
        for (const report of ledger.final({
          address: meta.address ?? '',
          port: Number(meta.port),
          ...line,
          atMs: deps.now(),
        }))
          options.onAttempt?.(report);
      });
    } catch {
      // The socket went away between the request and now: nothing was sent.
      finish({ kind: 'lost', atMs: deps.now() });
    }
  });
}
