import type { GatewayAddress } from './gateway-address.js';
import type { Timerec } from './timerec/index.js';
import type { ZeroWeightOrder } from './weighted-order.js';

/**
 * The immutable routing snapshot: what a reload builds beside the old one
 * and swaps in. Nothing here changes after the build; gateway state lives
 * outside (it comes into each lookup as a function).
 */

/** OpenSIPS dr_gateways.state: 0 active, 1 disabled by admin, 2 disabled by probing. */
export type GatewayState = 'active' | 'admin-disabled' | 'probing-disabled';

export const GATEWAY_STATE_BY_COLUMN: Readonly<Record<number, GatewayState>> = {
  0: 'active',
  1: 'admin-disabled',
  2: 'probing-disabled',
};

/** The column value of each state, for writing it back. */
export const COLUMN_BY_GATEWAY_STATE = Object.fromEntries(
  Object.entries(GATEWAY_STATE_BY_COLUMN).map(([column, state]) => [state, Number(column)]),
) as Readonly<Record<GatewayState, number>>;

export type SortAlgorithm = 'N' | 'W';

/**
 * How often a decision offers a gateway listed more than once (`1,1,2`, or
 * directly and through a carrier, or by two rules under rule fallback):
 * `as-listed`, once per listing, as OpenSIPS's do_routing pushes every
 * listing; `once`, only at its first.
 */
export type RepeatGateways = 'as-listed' | 'once';

export interface Gateway {
  readonly id: number;
  readonly gwid: string;
  readonly type: number;
  readonly address: GatewayAddress;
  readonly strip: number;
  readonly priPrefix: string;
  readonly attrs: string | null;
  /** 0 never probe, 1 probe only while disabled, 2 always probe. */
  readonly probeMode: 0 | 1 | 2;
  /** The state column as loaded; the live state is kept by the prober. */
  readonly storedState: GatewayState;
  readonly socket: string | null;
  readonly description: string | null;
}

export interface WeightedGateway {
  readonly gateway: Gateway;
  readonly weight: number;
}

export interface Carrier {
  readonly id: number;
  readonly carrierid: string;
  readonly members: readonly WeightedGateway[];
  readonly sortAlg: SortAlgorithm;
  /** flags 0x1: use only the first usable gateway after sorting. */
  readonly firstOnly: boolean;
  /** The state column at load (0: enabled), which overwrites flag 0x2 as in OpenSIPS 3.x. */
  readonly enabled: boolean;
  readonly attrs: string | null;
}

/** One entry of a rule's destination list; a carrier counts as one entry. */
export type RuleDestination =
  | { readonly kind: 'gateway'; readonly gateway: Gateway; readonly weight: number; readonly via: string | undefined }
  | { readonly kind: 'carrier'; readonly carrier: Carrier; readonly weight: number };

export interface Rule {
  readonly ruleid: number;
  readonly groups: readonly number[];
  /** '' for a prefix-less (default) rule. */
  readonly prefix: string;
  readonly timerec: Timerec | null;
  readonly priority: number;
  readonly routeid: string | null;
  readonly destinations: readonly RuleDestination[];
  readonly sortAlg: SortAlgorithm;
  readonly attrs: string | null;
  readonly description: string | null;
}

/**
 * The rules by prefix and group (rule-index.ts): what a lookup walks. The
 * nodes are those of the prefix trie, the root (0) holding the prefix-less
 * rules; a node's rules of a group come in priority order (higher first,
 * then ruleid).
 */
export interface RulesByPrefix {
  readonly count: number;
  /** Walks `number` down the prefixes, as PrefixTrie.walk. */
  walk(number: string, path: Int32Array): number;
  /** The group's rules at the node the first `length` characters of `number` reached (0 and 0: the prefix-less rules). */
  at(node: number, group: number, number: string, length: number): readonly Rule[] | undefined;
  /** The group's rules of exactly `prefix` ('': the prefix-less rules). */
  withPrefix(prefix: string, group: number): readonly Rule[] | undefined;
}

/** Gateways and carriers by id: what probing, gateway and carrier state, trust and the admin API work on. */
export interface RoutingDestinations {
  readonly gateways: ReadonlyMap<string, Gateway>;
  readonly carriers: ReadonlyMap<string, Carrier>;
}

export interface RoutingTable extends RoutingDestinations {
  readonly rules: RulesByPrefix;
  /** Groups that have at least one rule. */
  readonly groupIds: ReadonlySet<number>;
  /** dr_groups: `user@domain` (or `user` without useDomain) → group. */
  readonly callerGroups: ReadonlyMap<string, number>;
  readonly useDomain: boolean;
  /** routing.repeatGateways: a gateway listed twice is offered twice, or once. */
  readonly repeatGateways: RepeatGateways;
  /** routing.zeroWeightOrder: where W puts the entries of weight 0. */
  readonly zeroWeightOrder: ZeroWeightOrder;
}
