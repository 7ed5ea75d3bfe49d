import sip, { type Message, type NameAddr, type RouteEntry, type Via } from 'sip';
import { detached } from '../../core/detached-string.js';
import type {
  AttemptReport,
  Endpoint,
  LocalAddress,
  OwnForkOptions,
  ProxyResult,
  ProxyTarget,
  RequestRewrite,
} from '../engine.js';
import { hostText, localPort } from '../core/endpoint.js';
import { type AttemptHooks, type AttemptRequest, ClientAttempt, type HopBase } from './client-attempt.js';
import { forwardedText, type ReceivedText } from './forward-request.js';
import { forwardedMaxForwards } from '../core/max-forwards.js';
import { forkDecision } from '../core/fork-decision.js';
import { randomHex } from '../../random-pool.js';

/** RFC 3261 §8.1.1.7: a branch starts with the magic cookie (a worker's with its number too, `prefix`); ours carry 80 random bits. */
export function newBranch(prefix = 'z9hG4bK'): string {
  return `${prefix}${randomHex(10)}`;
}

export interface ProxyContext {
  request: Message;
  /** The request's text as received, which each attempt's copy is spliced from. */
  raw: ReceivedText;
  inbound: Endpoint;
  local: LocalAddress;
  /** The start of our branches (a worker's names it); undefined: the plain magic cookie. */
  branchPrefix: string | undefined;
  hooks: AttemptHooks;
  /** Sends a response upstream through the server transaction. */
  respond(status: number, reason?: string): void;
  /** Resolves when the caller CANCELs this request. */
  cancelled: Promise<void>;
}

/** A side whose peer is reached only over the connection it holds: a WebSocket one (its Contact is `*.invalid`). */
function flowSide(side: Endpoint): boolean {
  return side.transport === 'ws' || side.transport === 'wss';
}

function recordRoutes(
  local: LocalAddress,
  inbound: Endpoint,
  outbound: Endpoint,
  options: Pick<RequestRewrite, 'recordRouteParam' | 'recordRouteFlow'>,
): NameAddr[] {
  const param = options.recordRouteParam;
  const extra = param ? `;${param.name}=${param.value}` : '';
  const entry = (side: Endpoint): NameAddr => {
    const flow = flowSide(side) && options.recordRouteFlow ? options.recordRouteFlow(side) : '';
    return {
      uri: `sip:${hostText(local.address)}:${localPort(local, side.transport)};transport=${side.transport}${extra}${flow};lr`,
      params: {},
    };
  };
  // RFC 5658: one entry per side when the two sides use different transports; and when a side is a flow, each entry names its own side's.
  if (inbound.transport === outbound.transport && !flowSide(inbound)) return [entry(outbound)];
  return [entry(outbound), entry(inbound)];
}

/** The request as it goes to one target (RFC 3261 §16.6), spliced from the received text. */
function outgoingRequest(
  context: ProxyContext,
  target: ProxyTarget,
  options: OwnForkOptions,
  branch: string,
): AttemptRequest {
  const { request, local } = context;
  const via: Via = {
    version: '2.0',
    protocol: target.destination.transport.toUpperCase(),
    host: local.address,
    port: localPort(local, target.destination.transport),
    params: { branch },
  };
  const routes = target.routes?.map((uri) => ({ uri, params: {} }));
  const ours =
    options.recordRoute && request.method === 'INVITE'
      ? recordRoutes(local, context.inbound, target.destination, options)
      : undefined;
  const text = forwardedText(context.raw, request, {
    uri: target.uri,
    via,
    recordRoutes: ours,
    maxForwards: forwardedMaxForwards(request.headers['max-forwards']),
    dropProxyAuthorization: options.consumeCredentials === true,
    routes,
  });
  const { headers } = request;
  const kept = (routes ?? headers.route)?.map((entry: RouteEntry) => keptEntry(entry));
  const route = kept && kept.length > 0 ? kept : undefined;
  const hop: HopBase = {
    uri: detached(target.uri),
    headers: {
      via: [via],
      from: keptEntry(headers.from),
      to: keptEntry(headers.to),
      'call-id': detached(headers['call-id'] ?? ''),
      cseq: headers.cseq && { seq: headers.cseq.seq, method: request.method ?? '' },
      route,
    },
  };
  return { method: request.method ?? '', text, hop };
}

/**
 * A header entry as an attempt keeps it for its ACK and CANCEL (an INVITE's
 * for 32 s): copies of its strings, not views of the received datagram,
 * which would keep the whole INVITE alive that long.
 */
function keptEntry<Entry extends NameAddr | RouteEntry | undefined>(entry: Entry): Entry {
  if (!entry) return entry;
  const params: Record<string, string | null | undefined> = {};
  for (const [name, value] of Object.entries(entry.params))
    params[detached(name)] = typeof value === 'string' ? detached(value) : value;
  return {
    name: entry.name === undefined ? undefined : detached(entry.name),
    uri: detached(sip.stringifyUri(entry.uri)),
    params,
  } as Entry;
}

/**
 * Tries each target in turn (RFC 3261 §16, serial forking) as
 * `forkDecision` says after each attempt. A CANCEL from the caller stops
 * the pending attempt and answers 487.
 */
export async function proxySequentially(
  context: ProxyContext,
  targets: readonly ProxyTarget[],
  options: OwnForkOptions,
): Promise<ProxyResult> {
  const attempts: AttemptReport[] = [];
  let cancelled = false;
  let current: ClientAttempt | undefined;
  void context.cancelled.then(() => {
    cancelled = true;
    current?.cancel();
  });
  if (context.request.method === 'INVITE') context.respond(100);

  for (const [index, target] of targets.entries()) {
    if (cancelled) break;
    const branch = newBranch(context.branchPrefix);
    const attempt = new ClientAttempt(
      outgoingRequest(context, target, options, branch),
      branch,
      target,
      context.hooks,
      options,
    );
    current = attempt;
    attempt.start();
    const ended = await Promise.race([attempt.finished, context.cancelled.then(() => undefined)]);
    if (!ended) break;
    const { response, ...end } = ended;
    const decision = forkDecision(end, options, { cancelled, targetsLeft: targets.length - index - 1 });
    const report: AttemptReport = { ...end, decision };
    attempts.push(report);
    options.onAttempt?.(report);
    if (decision === 'answered') {
      if (response) context.hooks.relay(response);
      return { outcome: 'answered', attempts, status: report.status };
    }
    if (decision === 'relayed') {
      if (response) context.hooks.relay(response);
      else context.respond(report.status, report.reason);
      return { outcome: 'failed', attempts, status: report.status };
    }
  }
  if (cancelled) {
    context.respond(487);
    return { outcome: 'cancelled', attempts, status: 487 };
  }
  const status = options.whenExhausted?.(attempts) ?? 503;
  context.respond(status);
  return { outcome: 'failed', attempts, status };
}
