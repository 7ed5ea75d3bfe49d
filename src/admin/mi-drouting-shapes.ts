import type { NumberMatch } from '../routing/core/match-number.js';
import { splitQualifiedId } from '../routing/core/partitions.js';
import type { Carrier, Gateway, GatewayState } from '../routing/core/routing-table.js';

/**
 * The answers of OpenSIPS 3.5.9's drouting MI commands, field for field
 * (modules/drouting/drouting.c, the mi_dr_* functions), from our gateways,
 * carriers and rules. Pure: the commands (mi-drouting.ts) read the live
 * state and hand it in.
 */

/** What a gateway or carrier is called in its partition: the id of its row, without `partition:`. */
export function ownId(qualified: string): string {
  return splitQualifiedId(qualified).id;
}

export type MiGatewayState = 'Active' | 'Disabled MI' | 'Probing' | 'Inactive';

/**
 * mi_dr_print_gw_state: disabled by an operator is "Disabled MI"; disabled
 * otherwise is "Probing" for a probe_mode 1 gateway (probed only while
 * disabled, so probing is what brings it back) and "Inactive" for the rest.
 */
export function miGatewayState(state: GatewayState, probeMode: Gateway['probeMode']): MiGatewayState {
  if (state === 'active') return 'Active';
  if (state === 'admin-disabled') return 'Disabled MI';
  return probeMode === 1 ? 'Probing' : 'Inactive';
}

/** ATTRS only when the row has some (OpenSIPS adds it when attrs is not empty). */
function attrsOf(attrs: string | null): { ATTRS?: string } {
  return attrs ? { ATTRS: attrs } : {};
}

/** OpenSIPS lists its gateways and carriers from a map ordered by id, byte by byte (map.c str_cmp). */
function byId(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** mi_dr_list_all_gw: `{ Gateways: [{ ID, IP, ATTRS?, State }] }`, IP being the address without `sip:`. */
export function miGatewayList(gateways: Iterable<Gateway>, stateOf: (gateway: Gateway) => GatewayState) {
  const listed = [...gateways]
    .map((gateway) => ({ gateway, id: ownId(gateway.gwid) }))
    .sort((a, b) => byId(a.id, b.id));
  return {
    Gateways: listed.map(({ gateway, id }) => ({
      ID: id,
      IP: gateway.address.hostPort,
      ...attrsOf(gateway.attrs),
      State: miGatewayState(stateOf(gateway), gateway.probeMode),
    })),
  };
}

/** mi_dr_list_gw: one gateway, `{ ATTRS?, State }`. */
export function miGatewayStatus(gateway: Gateway, state: GatewayState) {
  return { ...attrsOf(gateway.attrs), State: miGatewayState(state, gateway.probeMode) };
}

/** OpenSIPS writes "no " (MI_SSTR("no "), three characters) beside "yes". */
export type MiEnabled = 'yes' | 'no ';

function miEnabled(enabled: boolean): MiEnabled {
  return enabled ? 'yes' : 'no ';
}

/** mi_dr_list_all_cr: `{ Carriers: [{ ID, ATTRS?, Enabled }] }`. */
export function miCarrierList(carriers: Iterable<Carrier>, enabledOf: (carrier: Carrier) => boolean) {
  const listed = [...carriers]
    .map((carrier) => ({ carrier, id: ownId(carrier.carrierid) }))
    .sort((a, b) => byId(a.id, b.id));
  return {
    Carriers: listed.map(({ carrier, id }) => ({
      ID: id,
      ...attrsOf(carrier.attrs),
      Enabled: miEnabled(enabledOf(carrier)),
    })),
  };
}

/** mi_dr_list_cr: one carrier, `{ ATTRS?, Enabled }`. */
export function miCarrierStatus(carrier: Carrier, enabled: boolean) {
  return { ...attrsOf(carrier.attrs), Enabled: miEnabled(enabled) };
}

/**
 * mi_dr_number_routing: the prefix matched (the number's first characters,
 * '' for a default rule), the rule's gateways and carriers as its gwlist
 * names them, in order, and its attrs; the string "No match" when no rule
 * matches.
 */
export function miNumberRouting(number: string, match: NumberMatch | undefined) {
  if (!match) return 'No match';
  const list = match.rule.destinations.map((destination) =>
    destination.kind === 'carrier'
      ? { CARRIER: ownId(destination.carrier.carrierid) }
      : { GATEWAY: ownId(destination.gateway.gwid) },
  );
  return { 'Matched Prefix': number.slice(0, match.matchedLength), 'GW List': list, ...attrsOf(match.rule.attrs) };
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** C's ctime_r without its newline, in the process's time zone as OpenSIPS's: `Tue Aug 12 12:26:00 2014`, the day padded with a space. */
export function ctime(at: Date): string {
  const two = (value: number) => String(value).padStart(2, '0');
  const time = `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
  return `${DAYS[at.getDay()]} ${MONTHS[at.getMonth()]} ${String(at.getDate()).padStart(2, ' ')} ${time} ${at.getFullYear()}`;
}
