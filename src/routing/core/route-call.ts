import type { SipUri } from '../../sip/core/uri.js';
import { type CallerGroup, resolveCallerGroup } from './caller-groups.js';
import { PrefixWalk } from './prefix-match.js';
import { rewriteRequestUri } from './rewrite-uri.js';
import type { Carrier, Gateway, GatewayState, Rule, RoutingTable } from './routing-table.js';
import { type DestinationCheck, selectDestinations } from './select-destinations.js';

export interface RouteRequest {
  /** The Request-URI user part, as received (no normalisation, as OpenSIPS). */
  number: string;
  /** The Request-URI to rewrite per gateway; without it, `sip:<number>@<gateway>`. */
  requestUri?: SipUri | undefined;
  caller?: { user: string; domain: string } | undefined;
  /** An explicit group skips the dr_groups lookup. */
  group?: number | undefined;
  defaultGroup: number | null;
  at: Date;
  random: () => number;
  gatewayState: (gateway: Gateway) => GatewayState;
  /** The live carrier state (admin enable/disable); without it, the loaded flags and state. */
  carrierEnabled?: ((carrier: Carrier) => boolean) | undefined;
  /** OpenSIPS flag L: the matched prefix must be the whole number. */
  strictLength: boolean;
  /** OpenSIPS flag F: a rule without usable gateways (or whose gateways all fail) gives way to the next. */
  ruleFallback: boolean;
  whitelist?: ReadonlySet<string> | undefined;
  /**
   * true: record every rule looked at and every gateway skipped (the CLI,
   * the admin API). false: only what the proxy needs (targets, rule,
   * prefix, outcome), which is several times cheaper.
   */
  explain: boolean;
}

export type RuleVerdict = 'taken' | 'fallback' | 'out-of-time' | 'lower-priority' | 'no-usable-gateway' | 'too-short';

export interface RuleConsidered {
  ruleId: number;
  prefix: string;
  priority: number;
  timerec: string | null;
  verdict: RuleVerdict;
  reason: string;
}

export type Destination = DestinationCheck;

export type RouteOutcome = 'routed' | 'no-rule' | 'no-gateway';

export interface RouteDecision {
  outcome: RouteOutcome;
  number: string;
  group: CallerGroup;
  /** The matched prefix ('' for a default rule), null when no rule was taken. */
  prefix: string | null;
  ruleId: number | null;
  rules: RuleConsidered[];
  /** Every gateway looked at (with `explain`; else the usable ones), usable ones with their URI, in trying order. */
  destinations: Destination[];
  /** The usable gateways only, in trying order: what the proxy tries. */
  targets: Destination[];
  notes: string[];
  /** The dr_partitions partition that routed it, and why that one (routing.partitions). */
  partition?: { name: string; detail: string };
}

/** A decision before any rule: no rule taken, `note` says why. */
export function notRouted(
  number: string,
  note?: string,
  group: CallerGroup = { group: null, source: 'none', detail: 'no group looked up' },
): RouteDecision {
  return {
    outcome: 'no-rule',
    number,
    group,
    prefix: null,
    ruleId: null,
    rules: [],
    destinations: [],
    targets: [],
    notes: note === undefined ? [] : [note],
  };
}

function considered(rule: Rule, verdict: RuleVerdict, reason: string): RuleConsidered {
  return {
    ruleId: rule.ruleid,
    prefix: rule.prefix,
    priority: rule.priority,
    timerec: rule.timerec?.source ?? null,
    verdict,
    reason,
  };
}

const walk = new PrefixWalk();

/**
 * The routing decision of OpenSIPS do_routing, explained: the caller's
 * group, the longest prefix holding a rule valid at `at` (shorter prefixes
 * when every rule of a longer one is out of time, then the defaults), the
 * highest-priority such rule, its gateways in order with their states, and
 * the Request-URI for each usable one.
 */
export function decideRoute(table: RoutingTable, request: RouteRequest): RouteDecision {
  const group = resolveCallerGroup(table, request);
  const decision = notRouted(request.number, undefined, group);
  if (group.group === null) return decision;
  if (!table.groupIds.has(group.group)) {
    decision.notes.push(`group ${group.group} has no rules`);
    return decision;
  }
  walk.start(table, request.number);
  if (walk.abandonedAt > 0) {
    const character = request.number[walk.abandonedAt - 1] ?? '';
    decision.notes.push(
      `character ${JSON.stringify(character)} at position ${walk.abandonedAt} is not a prefix character: prefix rules skipped, default rules only`,
    );
  }
  const context = {
    random: request.random,
    gatewayState: request.gatewayState,
    carrierEnabled: request.carrierEnabled ?? ((carrier: Carrier) => carrier.enabled),
    whitelist: request.whitelist,
    offered: table.repeatGateways === 'once' ? new Set<string>() : undefined,
    zeroWeightOrder: table.zeroWeightOrder,
    explain: request.explain,
    uriFor: (gateway: Gateway) => rewriteRequestUri(request.requestUri, request.number, gateway),
  };
  // The first time-valid rule decides, unless rule fallback lets the next one
  // in when it has no usable gateway (and, for the proxy, when all fail).
  let chosen: Rule | undefined;
  let withGateways: Rule | undefined;
  const explain = (rule: Rule, verdict: RuleVerdict, reason: () => string) => {
    if (request.explain) decision.rules.push(considered(rule, verdict, reason()));
  };

  for (let length = walk.deepest; length >= 0; length--) {
    const rules = walk.rulesAt(table, group.group, length);
    if (!rules) continue;
    for (const rule of rules) {
      if (chosen && !request.ruleFallback) {
        if (!request.explain) break;
        const taken = chosen;
        explain(rule, 'lower-priority', () => `rule ${taken.ruleid} was taken first`);
        continue;
      }
      if (rule.timerec && !rule.timerec.matches(request.at)) {
        explain(rule, 'out-of-time', () => `timerec does not match ${request.at.toISOString()}`);
        continue;
      }
      if (request.strictLength && length !== request.number.length) {
        explain(rule, 'too-short', () => `strict length: prefix "${rule.prefix}" is not the whole number`);
        return decision;
      }
      chosen ??= rule;
      const firstNew = decision.destinations.length;
      selectDestinations(decision.destinations, rule, context);
      let usable = 0;
      for (let i = firstNew; i < decision.destinations.length; i++) {
        const destination = decision.destinations[i];
        if (!destination || destination.skipped) continue;
        decision.targets.push(destination);
        usable++;
      }
      if (usable === 0) {
        explain(rule, 'no-usable-gateway', () => 'none of its gateways is usable');
        continue;
      }
      const verdict: RuleVerdict = withGateways ? 'fallback' : 'taken';
      withGateways ??= rule;
      explain(rule, verdict, () => `${usable} usable gateway${usable === 1 ? '' : 's'}`);
    }
    if (chosen && !request.ruleFallback) break;
  }
  const decisive = withGateways ?? chosen;
  if (decisive) {
    decision.outcome = withGateways ? 'routed' : 'no-gateway';
    decision.prefix = decisive.prefix;
    decision.ruleId = decisive.ruleid;
  }
  return decision;
}
