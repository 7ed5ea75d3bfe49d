import type { Carrier, Gateway, GatewayState, Rule, RuleDestination, WeightedGateway } from './routing-table.js';
import { weightedOrder, type ZeroWeightOrder } from './weighted-order.js';

export interface DestinationContext {
  random: () => number;
  gatewayState: (gateway: Gateway) => GatewayState;
  carrierEnabled: (carrier: Carrier) => boolean;
  /** Gateway and carrier ids a call may use; undefined allows all (OpenSIPS do_routing whitelist). */
  whitelist: ReadonlySet<string> | undefined;
  /** gwids this decision offered so far, when each is offered once (`once`); undefined: as often as listed. */
  offered: Set<string> | undefined;
  zeroWeightOrder: ZeroWeightOrder;
  /** The Request-URI for a usable gateway. */
  uriFor: (gateway: Gateway) => string;
  /** Keep the skipped gateways too (with why), not only the usable ones. */
  explain: boolean;
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
  /** The rewritten Request-URI, for a usable gateway. */
  readonly uri: string | undefined;
}

function ordered<T extends { readonly weight: number }>(
  items: readonly T[],
  sortAlg: 'N' | 'W',
  context: DestinationContext,
): readonly T[] {
  return sortAlg === 'W' ? weightedOrder(items, context.random, context.zeroWeightOrder) : items;
}

/** Checks one gateway, adds it to `out` if usable (or if explaining); says whether it was usable. */
function checkGateway(
  out: DestinationCheck[],
  rule: Rule,
  gateway: Gateway,
  carrierid: string | undefined,
  via: string | undefined,
  context: DestinationContext,
  skippedByParent: string | undefined,
): boolean {
  const state = context.gatewayState(gateway);
  let skipped = skippedByParent;
  if (!skipped && carrierid === undefined && context.whitelist && !context.whitelist.has(gateway.gwid))
    skipped = 'not in the whitelist';
  if (!skipped && state !== 'active')
    skipped = state === 'admin-disabled' ? 'disabled by admin' : 'down (disabled by probing)';
  if (!skipped && context.offered?.has(gateway.gwid))
    skipped = 'already offered in this decision (routing.repeatGateways: once)';
  if (!skipped) context.offered?.add(gateway.gwid);
  if (skipped && !context.explain) return false;
  out.push({
    gateway,
    ruleId: rule.ruleid,
    carrierid,
    via,
    state,
    skipped,
    uri: skipped ? undefined : context.uriFor(gateway),
  });
  return !skipped;
}

function carrierSkipReason(carrier: Carrier, context: DestinationContext): string | undefined {
  if (context.whitelist && !context.whitelist.has(carrier.carrierid))
    return `carrier ${carrier.carrierid} is not in the whitelist`;
  if (!context.carrierEnabled(carrier)) return `carrier ${carrier.carrierid} is disabled`;
  return undefined;
}

function checkCarrier(out: DestinationCheck[], rule: Rule, carrier: Carrier, context: DestinationContext): void {
  const parentSkip = carrierSkipReason(carrier, context);
  let firstTaken = false;
  for (const member of ordered<WeightedGateway>(carrier.members, carrier.sortAlg, context)) {
    const firstOnlySkip =
      firstTaken && carrier.firstOnly ? `carrier ${carrier.carrierid} uses only its first usable gateway` : undefined;
    checkGateway(out, rule, member.gateway, carrier.carrierid, undefined, context, parentSkip ?? firstOnlySkip);
    // OpenSIPS's first-only takes the first gateway that is up, even one offered before
    // (drouting.c do_routing: DR_CR_FLAG_FIRST breaks after the first that is not disabled):
    // with `once` that one is not offered again, and the next one is not offered instead.
    if (!parentSkip && context.gatewayState(member.gateway) === 'active') firstTaken = true;
  }
}

/**
 * The rule's destinations in the order its sort_alg gives, each gateway
 * checked for state, whitelist and carrier flags (OpenSIPS do_routing
 * step 8). A carrier is one entry of the rule's list and expands in its own
 * order. Appends to `out`: the usable gateways, and with `explain` the
 * skipped ones too.
 */
export function selectDestinations(out: DestinationCheck[], rule: Rule, context: DestinationContext): void {
  for (const destination of ordered<RuleDestination>(rule.destinations, rule.sortAlg, context)) {
    if (destination.kind === 'carrier') checkCarrier(out, rule, destination.carrier, context);
    else checkGateway(out, rule, destination.gateway, undefined, destination.via, context, undefined);
  }
}
