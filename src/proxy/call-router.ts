import type { AuthConfig, ProxyConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { decisionJson } from '../routing/core/format-decision.js';
import type { RoutingService } from '../routing/routing-service.js';
import { endpointOf } from '../sip/core/endpoint.js';
import type {
  ForkControl,
  LocalAddress,
  ProxyOptions,
  ProxyResult,
  ProxyTarget,
  RequestRewrite,
  ServerExchange,
} from '../sip/engine.js';
import type { MethodStep } from '../sip/pipeline.js';
import { parseSipUri, type SipUri } from '../sip/core/uri.js';
import { exhaustedStatus, shouldFailover, shouldTryNextContact } from './core/failover-policy.js';
import type { CallerAuthentication } from './caller-authentication.js';
import type { DialogGuard } from './dialog-guard.js';
import { inDialogTarget, routesAfterOurs } from './core/loose-routing.js';
import type { NodeRelay } from './core/node-relay.js';

/** Where the Request-URI's user is: registered (its contacts), a known peer that is not, or nobody we know. */
export type Location =
  { kind: 'registered'; targets: readonly ProxyTarget[] } | { kind: 'offline' } | { kind: 'unknown' };
export type LocationLookup = (requestUri: SipUri) => Promise<Location>;

/** What the metrics learn from routing calls (src/metrics implements it). */
export interface CallObserver {
  routingDecision(outcome: 'routed' | 'no-rule' | 'no-gateway' | 'registered' | 'offline'): void;
  /** A call moved on from this gateway to the next destination. */
  failover(gwid: string): void;
}

export interface CallRouterDeps {
  routing: RoutingService;
  locate: LocationLookup;
  proxy: Readonly<ProxyConfig>;
  local: LocalAddress;
  /** Signs the dialogs we Record-Route and checks the requests inside them. */
  dialogs: DialogGuard;
  /** Who may start a call: trusted sources, or a peer's credentials (407). */
  callers: CallerAuthentication;
  /** What a request from an untrusted source without credentials may reach (auth.unauthenticatedMayReach). */
  unauthenticatedMayReach: AuthConfig['unauthenticatedMayReach'];
  log: Logger;
  /** A gateway gave no response at all in time: passive marking (OpenSIPS dr_disable). */
  gatewaySilent(gwid: string): void;
  observer: CallObserver;
  /** Several nodes active at once (ha.nodeAddress): requests another node sent here for a phone registered here. */
  relay: NodeRelay | undefined;
  now: () => number;
}

/**
 * Proxies on whichever engine the exchange came from: a fork of ours gets
 * the failover policy and our rewrites of the request; a SIP server's fork
 * (drachtio-server) gets neither, since it decides failover by its own
 * rules and writes the request itself (docs/engines.md, "Where it
 * differs"): the engine port's types refuse them there.
 */
function proxy(
  exchange: ServerExchange,
  targets: readonly ProxyTarget[],
  options: ProxyOptions,
  ours: ForkControl & RequestRewrite,
): Promise<ProxyResult> {
  if (exchange.forking === 'ours') return exchange.proxy(targets, { ...options, ...ours });
  return exchange.proxy(targets, options);
}

/**
 * INVITE and the other requests that start something: a dialog's requests
 * follow its route set; a new request goes to a registered user if the
 * location service knows one, else where the routing decision says, with
 * failover between the gateways.
 */
export function callRouterStep(deps: CallRouterDeps): MethodStep {
  const options: ProxyOptions = {
    recordRoute: deps.proxy.recordRoute,
    noResponseTimeoutMs: deps.proxy.timeoutMs,
  };
  const gatewayFailover: ForkControl = {
    inviteTimeoutMs: deps.proxy.inviteTimeoutMs,
    tryNext: (attempt) => shouldFailover(attempt, deps.proxy.failoverCodes),
    whenExhausted: (attempts) => exhaustedStatus(attempts, deps.proxy.relayLastFailure),
  };
  /** One target: its end goes upstream, whatever it is. */
  const noFailover: ForkControl = { ...gatewayFailover, tryNext: () => false };

  async function inDialog(exchange: ServerExchange): Promise<void> {
    const target = inDialogTarget(exchange.request, deps.local, (route) =>
      deps.dialogs.flowOf(exchange.request, route),
    );
    if (!target) {
      exchange.reply(403, { reason: 'Forbidden (not a dialog of this proxy)' });
      return;
    }
    if (!deps.dialogs.accepts(exchange.request)) {
      exchange.reply(403, { reason: 'Forbidden (no valid dialog token)' });
      return;
    }
    await proxy(exchange, [target], { ...options, recordRoute: false }, noFailover);
  }

  async function newRequest(exchange: ServerExchange): Promise<void> {
    const { request } = exchange;
    // Checked, located and authorised by the node that signed it: only sent on to the phone.
    const relayed = deps.relay?.relayed(request, deps.now());
    if (relayed) {
      await proxy(exchange, [relayed], options, {
        ...noFailover,
        recordRouteParam: deps.dialogs.recordRouteParam(request),
        recordRouteFlow: (flow) => deps.dialogs.flowParams(request, flow),
      });
      return;
    }
    const parsed = parseSipUri(request.uri);
    if (!parsed.ok || !parsed.uri.user) {
      exchange.reply(404, { reason: 'Not Found (no user part to route)' });
      return;
    }
    const requestUri = parsed.uri;
    // Before any lookup, so that the answer to a stranger never depends on who exists.
    const who = await deps.callers.check(exchange);
    if (who.kind === 'refused') return;
    if (who.kind === 'anonymous' && deps.unauthenticatedMayReach === 'nothing') {
      deps.callers.challenge(exchange);
      return;
    }
    const located = await deps.locate(requestUri);
    if (who.kind === 'anonymous' && located.kind !== 'registered') {
      // Only registered phones are open to strangers: anything else gets the same challenge.
      deps.callers.challenge(exchange);
      return;
    }
    // A phone with us as its outbound proxy puts our Route on top: it is not sent on (§16.4).
    const routes = request.routes.length > 0 ? routesAfterOurs(request.routes, deps.local) : undefined;
    // The dialog this request may start is signed in our Record-Route.
    const signed: RequestRewrite = {
      recordRouteParam: deps.dialogs.recordRouteParam(request),
      recordRouteFlow: (flow) => deps.dialogs.flowParams(request, flow),
      consumeCredentials: who.kind === 'authenticated',
    };
    if (located.kind !== 'unknown') deps.observer.routingDecision(located.kind);
    if (located.kind === 'registered') {
      const contacts = routes ? located.targets.map((target) => ({ ...target, routes })) : located.targets;
      await proxy(exchange, contacts, options, { ...gatewayFailover, tryNext: shouldTryNextContact, ...signed });
      return;
    }
    if (located.kind === 'offline') {
      exchange.reply(480, { reason: 'Temporarily Unavailable (not registered)' });
      return;
    }
    const from = request.from ? parseSipUri(request.from.uri) : undefined;
    // The caller's group (dr_groups) is the authenticated peer's: a trunk's From names its callers, not itself.
    const user = who.kind === 'authenticated' ? who.peer.name : from?.ok ? from.uri.user : undefined;
    const caller = user && from?.ok ? { user, domain: from.uri.host } : undefined;
    const explain = deps.log.isLevelEnabled('debug');
    const decision = deps.routing.route({ number: requestUri.user ?? '', requestUri, caller, explain });
    if (explain)
      deps.log.debug(
        { callId: request.callId, decision: decisionJson(decision) },
        `routing ${request.callId}: ${decision.outcome}`,
      );
    deps.observer.routingDecision(decision.outcome);
    if (decision.outcome === 'no-rule') {
      exchange.reply(404, { reason: 'Not Found (no route)' });
      return;
    }
    if (decision.outcome === 'no-gateway') {
      exchange.reply(503, { reason: 'Service Unavailable (no gateway up)' });
      return;
    }
    const targets = decision.targets.map((target) => ({
      uri: target.uri ?? '',
      destination: endpointOf(target.gateway.address),
      label: target.gateway.gwid,
      ...(routes ? { routes } : {}),
    }));
    // The lines below cost their objects and text even when info is off: a call's worth at every call.
    const logCalls = deps.log.isLevelEnabled('info');
    const onAttempt: ProxyOptions['onAttempt'] = (report) => {
      if (logCalls)
        deps.log.info(
          {
            callId: request.callId,
            gateway: report.target.label,
            status: report.status,
            local: report.local,
            ms: Math.round(report.durationMs),
          },
          `${request.method} ${request.callId} via gateway ${report.target.label}: ${report.status}${report.local ? ' (no answer in time)' : ''}`,
        );
      // Only silence says a gateway is dead: one that rang and then timed out (nobody answered) is alive.
      if (report.local && !report.provisional) deps.gatewaySilent(report.target.label);
      // The fork decided once, and the report says what it did (the drachtio engine's by drachtio-server's rules).
      if (report.decision === 'failover') deps.observer.failover(report.target.label);
    };
    const result = await proxy(exchange, targets, { ...options, onAttempt }, { ...gatewayFailover, ...signed });
    if (logCalls)
      deps.log.info(
        { callId: request.callId, outcome: result.outcome, status: result.status, attempts: result.attempts.length },
        `${request.method} ${request.callId}: ${result.outcome} (${result.status})`,
      );
  }

  return async (exchange) => (exchange.request.to?.tag ? inDialog(exchange) : newRequest(exchange));
}
