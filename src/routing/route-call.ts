import type { SipUri } from '../sip/uri.js';
import { type CallerGroup, resolveCallerGroup } from './caller-groups.js';
import { walkPrefixes } from './prefix-match.js';
import { rewriteRequestUri } from './rewrite-uri.js';
import type { Gateway, GatewayState, Rule, RoutingTable } from './routing-table.js';
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
  /** OpenSIPS flag L: the matched prefix must be the whole number. */
  strictLength: boolean;
  /** OpenSIPS flag F: a rule without usable gateways (or whose gateways all fail) gives way to the next. */
  ruleFallback: boolean;
  whitelist?: ReadonlySet<string> | undefined;
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

export interface Destination extends DestinationCheck {
  /** The rewritten Request-URI, for a usable gateway. */
  readonly uri: string | undefined;
}

export type RouteOutcome = 'routed' | 'no-rule' | 'no-gateway';

export interface RouteDecision {
  outcome: RouteOutcome;
  number: string;
  group: CallerGroup;
  /** The matched prefix ('' for a default rule), null when no rule was taken. */
  prefix: string | null;
  ruleId: number | null;
  rules: RuleConsidered[];
  /** Every gateway looked at, usable ones with their URI, in trying order. */
  destinations: Destination[];
  /** The usable gateways only, in trying order: what the proxy tries. */
  targets: Destination[];
  notes: string[];
}

function considered(rule: Rule, verdict: RuleVerdict, reason: string): RuleConsidered {
  return { ruleId: rule.ruleid, prefix: rule.prefix, priority: rule.priority, timerec: rule.timerec?.source ?? null, verdict, reason };
}

function withUris(checks: readonly DestinationCheck[], request: RouteRequest): Destination[] {
  return checks.map((check) => ({ ...check, uri: check.skipped ? undefined : rewriteRequestUri(request.requestUri, request.number, check.gateway) }));
}

/**
 * The routing decision of OpenSIPS do_routing, explained: the caller's
 * group, the longest prefix holding a rule valid at `at` (shorter prefixes
 * when every rule of a longer one is out of time, then the defaults), the
 * highest-priority such rule, its gateways in order with their states, and
 * the Request-URI for each usable one.
 */
export function decideRoute(table: RoutingTable, request: RouteRequest): RouteDecision {
  const group = resolveCallerGroup(table, request);
  const decision: RouteDecision = { outcome: 'no-rule', number: request.number, group, prefix: null, ruleId: null, rules: [], destinations: [], targets: [], notes: [] };
  if (group.group === null) return decision;
  const groupRules = table.groups.get(group.group);
  if (!groupRules) {
    decision.notes.push(`group ${group.group} has no rules`);
    return decision;
  }
  const walk = walkPrefixes(table, groupRules, request.number);
  if (walk.abandonedAt) {
    const { character, position } = walk.abandonedAt;
    decision.notes.push(`character ${JSON.stringify(character)} at position ${position} is not a prefix character: prefix rules skipped, default rules only`);
  }
  const offered = new Set<string>();
  const context = { random: request.random, gatewayState: request.gatewayState, whitelist: request.whitelist, offered };
  // The first time-valid rule decides, unless rule fallback lets the next one
  // in when it has no usable gateway (and, for the proxy, when all fail).
  let chosen: Rule | undefined;
  let withGateways: Rule | undefined;

  for (const node of walk.nodes) {
    for (const rule of node.rules) {
      if (chosen && !request.ruleFallback) {
        decision.rules.push(considered(rule, 'lower-priority', `rule ${chosen.ruleid} was taken first`));
        continue;
      }
      if (rule.timerec && !rule.timerec.matches(request.at)) {
        decision.rules.push(considered(rule, 'out-of-time', `timerec does not match ${request.at.toISOString()}`));
        continue;
      }
      if (request.strictLength && node.prefix.length !== request.number.length) {
        decision.rules.push(considered(rule, 'too-short', `strict length: prefix "${node.prefix}" is not the whole number`));
        return decision;
      }
      chosen ??= rule;
      const destinations = withUris(selectDestinations(rule, context), request);
      const usable = destinations.filter((destination) => !destination.skipped);
      decision.destinations.push(...destinations);
      decision.targets.push(...usable);
      if (usable.length === 0) {
        decision.rules.push(considered(rule, 'no-usable-gateway', 'none of its gateways is usable'));
        continue;
      }
      const verdict: RuleVerdict = withGateways ? 'fallback' : 'taken';
      withGateways ??= rule;
      decision.rules.push(considered(rule, verdict, `${usable.length} usable gateway${usable.length === 1 ? '' : 's'}`));
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
