import type { Carrier, Gateway, GatewayState, Rule, RuleDestination, WeightedGateway } from './routing-table.js';
import { weightedOrder } from './weighted-order.js';

export interface DestinationContext {
  random: () => number;
  gatewayState: (gateway: Gateway) => GatewayState;
  /** Gateway and carrier ids a call may use; undefined allows all (OpenSIPS do_routing whitelist). */
  whitelist: ReadonlySet<string> | undefined;
  /** gwids already offered by an earlier rule of this decision (rule fallback never retries one). */
  offered: Set<string>;
}

/** One gateway as the decision saw it: usable, or skipped and why. */
export interface DestinationCheck {
  readonly gateway: Gateway;
  readonly ruleId: number;
  readonly carrierid: string | undefined;
  /** `#N` when the gateway came from a dr_gw_lists row. */
  readonly via: string | undefined;
  readonly state: GatewayState;
  readonly skipped: string | undefined;
}

function ordered<T extends { readonly weight: number }>(items: readonly T[], sortAlg: 'N' | 'W', random: () => number): readonly T[] {
  return sortAlg === 'W' ? weightedOrder(items, random) : items;
}

function checkGateway(
  rule: Rule,
  gateway: Gateway,
  from: { carrierid: string | undefined; via: string | undefined },
  context: DestinationContext,
  skippedByParent: string | undefined,
): DestinationCheck {
  const state = context.gatewayState(gateway);
  let skipped = skippedByParent;
  if (!skipped && from.carrierid === undefined && context.whitelist && !context.whitelist.has(gateway.gwid)) skipped = 'not in the whitelist';
  if (!skipped && state !== 'active') skipped = state === 'admin-disabled' ? 'disabled by admin' : 'down (disabled by probing)';
  if (!skipped && context.offered.has(gateway.gwid)) skipped = 'already offered by an earlier rule';
  if (!skipped) context.offered.add(gateway.gwid);
  return { gateway, ruleId: rule.ruleid, carrierid: from.carrierid, via: from.via, state, skipped };
}

function carrierSkipReason(carrier: Carrier, context: DestinationContext): string | undefined {
  if (context.whitelist && !context.whitelist.has(carrier.carrierid)) return `carrier ${carrier.carrierid} is not in the whitelist`;
  if (!carrier.enabled) return `carrier ${carrier.carrierid} is disabled`;
  return undefined;
}

function checkCarrier(rule: Rule, carrier: Carrier, context: DestinationContext): DestinationCheck[] {
  const parentSkip = carrierSkipReason(carrier, context);
  const checks: DestinationCheck[] = [];
  let usableSeen = false;
  for (const member of ordered<WeightedGateway>(carrier.members, carrier.sortAlg, context.random)) {
    const firstOnlySkip = usableSeen && carrier.firstOnly ? `carrier ${carrier.carrierid} uses only its first usable gateway` : undefined;
    const check = checkGateway(rule, member.gateway, { carrierid: carrier.carrierid, via: undefined }, context, parentSkip ?? firstOnlySkip);
    if (!check.skipped) usableSeen = true;
    checks.push(check);
  }
  return checks;
}

/**
 * The rule's destinations in the order its sort_alg gives, each gateway
 * checked for state, whitelist and carrier flags (OpenSIPS do_routing
 * step 8). A carrier is one entry of the rule's list and expands in its own
 * order.
 */
export function selectDestinations(rule: Rule, context: DestinationContext): DestinationCheck[] {
  const checks: DestinationCheck[] = [];
  for (const destination of ordered<RuleDestination>(rule.destinations, rule.sortAlg, context.random)) {
    if (destination.kind === 'carrier') checks.push(...checkCarrier(rule, destination.carrier, context));
    else checks.push(checkGateway(rule, destination.gateway, { carrierid: undefined, via: destination.via }, context, undefined));
  }
  return checks;
}
