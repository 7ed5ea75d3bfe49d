import type { AdminClient } from '../admin/admin-client.js';
import { problemTally } from '../routing/core/load-summary.js';
import { plural } from '../core/plural.js';
import { table } from '../routing/core/format-decision.js';

/**
 * The operator's commands over the admin API of a running server: each
 * asks one route and prints its answer, as a table for people or, with
 * `--json`, the API's JSON as it came.
 */

export interface OutputOptions {
  json?: boolean;
}

/** The JSON the admin API answers with (src/admin/admin-api.ts), as far as the tables read it. */
interface GatewayJson {
  gwid: string;
  address: string;
  state: string;
  reason: string | null;
  since: string | null;
  lastRttMs: number | null;
}

interface CarrierJson {
  carrierid: string;
  enabled: boolean;
  gateways: string[];
  sortAlg: string;
  firstOnly: boolean;
}

interface ReloadJson {
  ok: boolean;
  generation: number;
  counts: { gateways: number; carriers: number; rules: number; callers: number };
  skipped: string[];
  warnings: string[];
  errors: string[];
}

interface PeerSummaryJson {
  name: string;
  host: string | null;
  dynamic: boolean;
  port: number | null;
  status: 'registered' | 'unregistered' | 'unmonitored';
  realtime: boolean;
}

interface BindingJson {
  contact: string;
  expiresInSeconds: number;
  q: number;
  source: string;
  userAgent: string | null;
}

type PeerJson = Record<string, unknown> & { status: string; bindings: BindingJson[] };

interface StateChangeJson {
  gwid: string;
  from: string;
  to: string;
  reason: string;
  at: string;
}

interface ProbingJson {
  probing: boolean;
}

export function show(answer: unknown, options: OutputOptions, text: () => string): void {
  console.log(options.json ? JSON.stringify(answer, null, 2) : text());
}

/**
 * A round trip for people: two significant digits below 10 ms (`0.84 ms`,
 * `8.5 ms`), whole milliseconds above; the clock's microsecond noise
 * (`8.482229000001098`) says nothing about a gateway.
 */
export function rttText(ms: number): string {
  return `${ms >= 10 ? Math.round(ms) : Number(ms.toPrecision(2))} ms`;
}

function gatewaysText(gateways: readonly GatewayJson[]): string {
  return table([
    ['gwid', 'address', 'state', 'since', 'rtt', 'reason'],
    ...gateways.map((gw) => [
      gw.gwid,
      gw.address,
      gw.state,
      gw.since ?? '-',
      gw.lastRttMs === null ? '-' : rttText(gw.lastRttMs),
      gw.reason ?? '-',
    ]),
  ]).join('\n');
}

function carriersText(carriers: readonly CarrierJson[]): string {
  return table([
    ['carrierid', 'state', 'sort', 'first only', 'gateways'],
    ...carriers.map((carrier) => [
      carrier.carrierid,
      carrier.enabled ? 'enabled' : 'disabled',
      carrier.sortAlg,
      carrier.firstOnly ? 'yes' : 'no',
      carrier.gateways.join(','),
    ]),
  ]).join('\n');
}

/** `drouter gateways`. */
export async function gatewaysCommand(client: AdminClient, options: OutputOptions): Promise<void> {
  const gateways = await client.get<GatewayJson[]>('/gateways');
  show(gateways, options, () => gatewaysText(gateways));
}

/** `drouter gateway enable|disable GWID`: prints the gateway as it is now. */
export async function setGatewayCommand(
  client: AdminClient,
  gwid: string,
  enable: boolean,
  options: OutputOptions,
): Promise<void> {
  const gateway = await client.post<GatewayJson>(
    `/gateways/${encodeURIComponent(gwid)}/${enable ? 'enable' : 'disable'}`,
  );
  show(gateway, options, () => gatewaysText([gateway]));
}

/** `drouter carriers`. */
export async function carriersCommand(client: AdminClient, options: OutputOptions): Promise<void> {
  const carriers = await client.get<CarrierJson[]>('/carriers');
  show(carriers, options, () => carriersText(carriers));
}

/** `drouter carrier enable|disable ID`: prints the carrier as it is now. */
export async function setCarrierCommand(
  client: AdminClient,
  carrierid: string,
  enable: boolean,
  options: OutputOptions,
): Promise<void> {
  const carrier = await client.post<CarrierJson>(
    `/carriers/${encodeURIComponent(carrierid)}/${enable ? 'enable' : 'disable'}`,
  );
  show(carrier, options, () => carriersText([carrier]));
}

/** `drouter reload`: exit 1 when the server refused the new data (it keeps the old snapshot). */
export async function reloadCommand(
  client: AdminClient,
  options: OutputOptions & { inheritState: boolean },
): Promise<number> {
  const report = await client.post<ReloadJson>('/reload', options.inheritState ? {} : { inheritState: false });
  show(report, options, () => {
    const problems = [
      ...report.errors.map((line) => `error    ${line}`),
      ...report.skipped.map((line) => `skipped  ${line}`),
      ...report.warnings.map((line) => `warning  ${line}`),
    ];
    const tally = problemTally(report);
    const { gateways, carriers, rules, callers } = report.counts;
    const verdict = report.ok
      ? `reloaded: ${tally}; generation ${report.generation} in use (${plural(gateways, 'gateway')}, ${plural(carriers, 'carrier')}, ${plural(rules, 'rule')}, ${plural(callers, 'caller')})`
      : `reload refused: ${tally}; generation ${report.generation} stays in use`;
    return [...problems, verdict].join('\n');
  });
  return report.ok ? 0 : 1;
}

/** `drouter peers`: Asterisk's `sip show peers`, for the realtime peers of sippeers. */
export async function peersCommand(client: AdminClient, options: OutputOptions): Promise<void> {
  const peers = await client.get<PeerSummaryJson[]>('/peers');
  show(peers, options, () => {
    const count = (status: PeerSummaryJson['status']) => peers.filter((peer) => peer.status === status).length;
    const rows = table([
      ['Name', 'Host', 'Dyn', 'Port', 'Status', 'Realtime'],
      // "(Unspecified)" and port 0 are what Asterisk shows for a peer that never registered.
      ...peers.map((peer) => [
        peer.name,
        peer.host ?? '(Unspecified)',
        peer.dynamic ? 'D' : '',
        String(peer.port ?? 0),
        peer.status,
        peer.realtime ? 'yes' : 'no',
      ]),
    ]);
    // Asterisk's own line, "1 sip peers" included (chan_sip.c prints "%d sip peers"), for the scripts that read it.
    const summary = `${peers.length} sip peers [registered: ${count('registered')}, unregistered: ${count('unregistered')}, unmonitored: ${count('unmonitored')}]`;
    return [...rows, summary].join('\n');
  });
}

/** `drouter peer NAME`: its sippeers columns that have a value (secrets masked by the server) and its live bindings. */
export async function peerCommand(client: AdminClient, name: string, options: OutputOptions): Promise<void> {
  const peer = await client.get<PeerJson>(`/peers/${encodeURIComponent(name)}`);
  show(peer, options, () => {
    const { status, bindings, ...columns } = peer;
    const set = Object.entries(columns).filter(([, value]) => value !== null && value !== '');
    const lines = table([['status', status], ...set.map(([column, value]) => [column, String(value)])]);
    if (bindings.length === 0) return [...lines, '', 'bindings: none'].join('\n');
    const rows = table([
      ['contact', 'expires in', 'q', 'source', 'user agent'],
      ...bindings.map((binding) => [
        binding.contact,
        `${binding.expiresInSeconds} s`,
        String(binding.q),
        binding.source,
        binding.userAgent ?? '-',
      ]),
    ]);
    return [...lines, '', 'bindings:', ...rows].join('\n');
  });
}

/** `drouter peer NAME --prune`: the cached copy dropped (404, exit 1, when none was cached). */
export async function prunePeerCommand(client: AdminClient, name: string, options: OutputOptions): Promise<void> {
  const answer = await client.post<{ name: string; pruned: boolean }>(`/peers/${encodeURIComponent(name)}/prune`);
  show(answer, options, () => `peer ${answer.name}: cached copy dropped; the next lookup reads its sippeers row`);
}

/** `drouter probing [on|off]`: shows the switch, or sets it first. */
export async function probingCommand(
  client: AdminClient,
  change: 'on' | 'off' | undefined,
  options: OutputOptions,
): Promise<void> {
  const answer =
    change === undefined
      ? await client.get<ProbingJson>('/probing')
      : await client.post<ProbingJson>('/probing', { on: change === 'on' });
  show(answer, options, () => `probing ${answer.probing ? 'on' : 'off'}`);
}

/** `drouter events`: gateway state changes, newest first. */
export async function eventsCommand(client: AdminClient, options: OutputOptions & { limit?: string }): Promise<void> {
  const changes = await client.get<StateChangeJson[]>('/events', { limit: options.limit });
  show(changes, options, () => {
    if (changes.length === 0) return 'no gateway state changes';
    return table([
      ['time', 'gwid', 'change', 'reason'],
      ...changes.map((change) => [change.at, change.gwid, `${change.from} → ${change.to}`, change.reason]),
    ]).join('\n');
  });
}
