import { type Aggregator, collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricsSnapshot } from './cluster-metrics.js';
import type { DropReason } from '../defence/source-guard-service.js';
import type { GatewayState } from '../routing/core/routing-table.js';

/**
 * The product's Prometheus metrics. Each instance owns its registry, so two
 * servers in one process (as in the tests) never share or collide on series.
 * Labels are closed sets or gateway ids: never a phone number, a caller or a URI.
 */

export type GatewayStateName = GatewayState;

// The compiler checks this object has exactly one key per state, so a new state cannot miss its series.
const GATEWAY_STATES = Object.keys({ active: 0, 'probing-disabled': 0, 'admin-disabled': 0 } satisfies Record<
  GatewayStateName,
  0
>) as GatewayStateName[];

const PROBE_FAILURE_REASONS = ['timeout', 'negative-reply', 'send-failed'] as const;
export type ProbeFailureReason = (typeof PROBE_FAILURE_REASONS)[number];

const ROUTING_OUTCOMES = ['routed', 'no-rule', 'no-gateway', 'registered', 'offline'] as const;
export type RoutingOutcome = (typeof ROUTING_OUTCOMES)[number];

const DROUTING_TABLES = ['dr_gateways', 'dr_rules', 'dr_carriers', 'dr_groups', 'dr_gw_lists'] as const;

const REGISTRATION_RESULTS = ['registered', 'refreshed', 'unregistered', 'challenged', 'failed'] as const;
export type RegistrationResult = (typeof REGISTRATION_RESULTS)[number];

const RELOAD_RESULTS = ['ok', 'failed'] as const;
export type ReloadResult = (typeof RELOAD_RESULTS)[number];

const HANDOFF_KINDS = ['request', 'response', 'tcp-send'] as const;
/** What a worker handed to another (--workers N): a request or response it owns, or a send over a TCP connection it holds. */
export type HandoffKind = (typeof HANDOFF_KINDS)[number];

const TCP_CAPS = ['total', 'per-source'] as const;
/** Which cap of sip.tcp turned an accepted TCP connection away. */
export type TcpCap = (typeof TCP_CAPS)[number];

const TCP_CLOSE_REASONS = ['idle', 'message-timeout', 'oversized'] as const;
/** Why we closed a TCP connection: idle past sip.tcp.idleTimeoutMs, a message not whole within messageTimeoutMs, a head or body over its cap. */
export type TcpCloseReason = (typeof TCP_CLOSE_REASONS)[number];

const DROP_REASONS = ['banned', 'rate-limited', 'scanner'] as const satisfies readonly DropReason[];
const SHED_METHODS = ['INVITE', 'REGISTER'] as const;

const SIP_METHODS = [
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'REGISTER',
  'OPTIONS',
  'INFO',
  'UPDATE',
  'REFER',
  'NOTIFY',
  'PRACK',
  'MESSAGE',
  'SUBSCRIBE',
  'PUBLISH',
] as const;
const KNOWN_METHODS = new Set<string>(SIP_METHODS);
const OTHER = 'other';

/** Probe round trips from a LAN gateway (~1 ms) to one about to time out (seconds). */
const PROBE_RTT_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface MetricDescription {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  labels: string[];
  help: string;
}

/** Any method we do not know shares one label value, so a peer cannot grow the series without bound. */
function methodLabel(method: string): string {
  // RFC 3261 §7.1: the method token is case-sensitive, so 'invite' is not INVITE.
  return KNOWN_METHODS.has(method) ? method : OTHER;
}

function codeLabel(status: number): string {
  // RFC 3261 §7.2: a status code is three digits whose first, 1 to 6, is its class.
  return Number.isInteger(status) && status >= 100 && status <= 699 ? String(status) : OTHER;
}

export class Metrics {
  private readonly registry = new Registry();
  private readonly descriptions: MetricDescription[] = [];
  private bindingsSource: (() => Promise<number>) | undefined;

  // Every worker of a node shows the same shared state: summed over workers it would count N times, so the node shows one worker's.
  private readonly gatewayUp = this.gauge(
    'sipdr_gateway_up',
    'Whether the gateway takes calls: 1 when active, 0 when disabled by probing or by admin.',
    ['gateway'],
    undefined,
    'first',
  );
  private readonly gatewayStates = this.gauge(
    'sipdr_gateway_state',
    "The gateway's state: 1 on the series of its current state, 0 on the two others.",
    ['gateway', 'state'],
    undefined,
    'first',
  );
  private readonly gatewayStateChanges = this.counter(
    'sipdr_gateway_state_changes_total',
    'Changes of gateway state, labelled with the state entered.',
    ['gateway', 'state'],
  );
  private readonly probeRttSeconds = this.histogram(
    'sipdr_probe_rtt_seconds',
    'Round-trip time of the OPTIONS probes a gateway answered.',
    ['gateway'],
    PROBE_RTT_BUCKETS_SECONDS,
  );
  private readonly probeFailures = this.counter(
    'sipdr_probe_failures_total',
    'OPTIONS probes that failed, by reason: timeout, negative-reply or send-failed.',
    ['gateway', 'reason'],
  );
  private readonly routingDecisions = this.counter(
    'sipdr_routing_decisions_total',
    'Routing decisions for new requests, by outcome: routed, no-rule, no-gateway, registered or offline.',
    ['outcome'],
  );
  private readonly failovers = this.counter(
    'sipdr_failovers_total',
    'Calls that moved on from this gateway to their next destination.',
    ['gateway'],
  );
  private readonly registrations = this.counter('sipdr_registrations_total', 'REGISTER requests handled, by result.', [
    'result',
  ]);
  private readonly refilledBindings = this.counter(
    'sipdr_bindings_refilled_total',
    'Bindings put back into a cache that had lost them (restarted empty), from the sippeers rows, by the leader.',
    [],
  );
  private readonly bindings: Gauge = this.gauge(
    'sipdr_bindings',
    'Addresses of record with at least one live binding, read from the location store at each scrape (absent when it cannot be read).',
    [],
    () => this.readBindings(),
    'first',
  );
  private readonly sipRequests = this.counter(
    'sipdr_sip_requests_total',
    'SIP requests received, by method (a method we do not know counts as other).',
    ['method'],
  );
  private readonly sipResponses = this.counter(
    'sipdr_sip_responses_total',
    'SIP responses sent upstream, by method of the request and status code.',
    ['method', 'code'],
  );
  private readonly reloads = this.counter('sipdr_reloads_total', 'Reloads of the routing data, by result.', ['result']);
  // Every worker of a node loads the same rows.
  private readonly rowsSkipped = this.gauge(
    'sipdr_routing_rows_skipped',
    'Drouting rows left out of the routing snapshot in use, as OpenSIPS 3.x leaves them out (a bad timerec, an unparsable gwlist, a probe_mode it does not know …), by table; set at each load.',
    ['table'],
    undefined,
    'first',
  );
  private readonly workerHandoffs = this.counter(
    'sipdr_worker_handoffs_total',
    "With --workers N: messages a worker handed to the worker that owns them, by kind: request (owned by its branch), response (to that worker's request), tcp-send (over a TCP connection that worker holds).",
    ['kind'],
  );
  private readonly tcpRefusals = this.counter(
    'sipdr_tcp_connections_refused_total',
    'Native engine: accepted TCP connections closed at once because a cap was reached, by cap: total (sip.tcp.maxConnections) or per-source (sip.tcp.maxConnectionsPerSource).',
    ['cap'],
  );
  private readonly tcpClosures = this.counter(
    'sipdr_tcp_connections_closed_total',
    'Native engine: TCP connections closed by a limit, by reason: idle (sip.tcp.idleTimeoutMs), message-timeout (a message not whole within sip.tcp.messageTimeoutMs), oversized (a head or body over its cap).',
    ['reason'],
  );
  private readonly requestsDropped = this.counter(
    'sipdr_requests_dropped_total',
    'Requests dropped without an answer, by reason: banned (the source is banned; on the native engine over UDP dropped before parsing), rate-limited (over its limits.* rate), scanner (a User-Agent of limits.scannerUserAgents).',
    ['reason'],
  );
  /** Bound once: a banned flood counts every datagram, and a labelled inc() hashes its labels each time. */
  private readonly droppedBy = Object.fromEntries(
    DROP_REASONS.map((reason) => [reason, this.requestsDropped.labels({ reason })]),
  ) as Record<DropReason, { inc(): void }>;
  private readonly bansImposed = this.counter(
    'sipdr_bans_total',
    'Sources this process banned: failures or scanner requests past limits.ban.failures, a failure against a user past limits.ban.userFailures, or drops over the rate past limits.ban.overRate.',
    [],
  );
  // Every worker of a node reads the same shared list.
  private readonly bannedSourcesNow = this.gauge(
    'sipdr_banned_sources',
    'Sources under a ban now, as this node knows them (the shared list, read every second).',
    [],
    undefined,
    'first',
  );
  private readonly requestsShed = this.counter(
    'sipdr_requests_shed_total',
    'New INVITEs and REGISTERs answered 503 with Retry-After because the server was overloaded (overload.*), by method.',
    ['method'],
  );
  private readonly overloadedNow = this.gauge(
    'sipdr_overloaded',
    'Whether the server sheds new work now (1) or not (0): within the last second the event loop ran late past overload.maxLagMs, was busy past overload.maxLoopUtilization, or overload.maxInvitesInProgress was reached.',
    [],
    undefined,
    'max',
  );
  private readonly drachtioConnected = this.gauge(
    'sipdr_drachtio_connected',
    'drachtio engine: 1 while the link to the drachtio-server is up, 0 while it is lost (absent on the native engine; in inbound mode it follows /health sip.ok).',
    ['server'],
  );
  private readonly drachtioDisconnections = this.counter(
    'sipdr_drachtio_disconnections_total',
    'drachtio engine: times the connection to the drachtio-server was lost after start.',
    ['server'],
  );
  private readonly drachtioReconnections = this.counter(
    'sipdr_drachtio_reconnections_total',
    'drachtio engine: times the connection to the drachtio-server came back after a loss.',
    ['server'],
  );
  private readonly haLeader = this.gauge(
    'sipdr_ha_leader',
    'Whether this process holds the leader lease and so runs the probing and the expiry sweep: 1 or 0.',
    [],
  );
  private readonly haLeaderChanges = this.counter(
    'sipdr_ha_leader_changes_total',
    'Times this process became the leader or stopped being it, labelled with the role entered.',
    ['role'],
  );
  // The workers of a node run one build: summed, a node of N workers would show N.
  private readonly build = this.gauge(
    'sipdr_build_info',
    'Always 1; its labels say what runs: version (package.json), node (Node.js version), engine (sip.engine).',
    ['version', 'node', 'engine'],
    undefined,
    'first',
  );

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Series known in advance start at 0, so the first increment shows in rate() (Prometheus "avoid missing metrics").
    for (const outcome of ROUTING_OUTCOMES) this.routingDecisions.inc({ outcome }, 0);
    for (const result of REGISTRATION_RESULTS) this.registrations.inc({ result }, 0);
    for (const result of RELOAD_RESULTS) this.reloads.inc({ result }, 0);
    for (const kind of HANDOFF_KINDS) this.workerHandoffs.inc({ kind }, 0);
    for (const cap of TCP_CAPS) this.tcpRefusals.inc({ cap }, 0);
    for (const reason of TCP_CLOSE_REASONS) this.tcpClosures.inc({ reason }, 0);
    for (const method of [...SIP_METHODS, OTHER]) this.sipRequests.inc({ method }, 0);
    for (const reason of DROP_REASONS) this.requestsDropped.inc({ reason }, 0);
    for (const method of SHED_METHODS) this.requestsShed.inc({ method }, 0);
    this.bansImposed.inc(0);
    this.bannedSourcesNow.set(0);
    this.routingRowsSkipped([]);
    this.overloadedNow.set(0);
    this.haLeader.set(0);
    for (const role of ['leader', 'standby']) this.haLeaderChanges.inc({ role }, 0);
  }

  /** What this process runs, set once at start: sipdr_build_info (the Prometheus *_info convention: the labels carry it, the value is 1). */
  buildInfo(labels: { version: string; node: string; engine: string }): void {
    this.build.set(labels, 1);
  }

  /** This process's role changed: sipdr_ha_leader and sipdr_ha_leader_changes_total. */
  leaderRole(leader: boolean): void {
    this.haLeader.set(leader ? 1 : 0);
    this.haLeaderChanges.inc({ role: leader ? 'leader' : 'standby' });
  }

  /** Current state of a gateway: sipdr_gateway_up (1 when active) and sipdr_gateway_state (1 for this state, 0 for the others). */
  gatewayState(gwid: string, state: GatewayStateName): void {
    this.gatewayUp.set({ gateway: gwid }, state === 'active' ? 1 : 0);
    for (const each of GATEWAY_STATES) this.gatewayStates.set({ gateway: gwid, state: each }, each === state ? 1 : 0);
  }

  /** A gateway entered `state`: sipdr_gateway_state_changes_total. */
  gatewayStateChanged(gwid: string, state: GatewayStateName): void {
    this.gatewayStateChanges.inc({ gateway: gwid, state });
  }

  /** Drops every series of a gateway that a reload removed, so it stops being scraped. */
  forgetGateway(gwid: string): void {
    const gateway = gwid;
    this.gatewayUp.remove({ gateway });
    for (const state of GATEWAY_STATES) {
      this.gatewayStates.remove({ gateway, state });
      this.gatewayStateChanges.remove({ gateway, state });
    }
    this.probeRttSeconds.remove({ gateway });
    for (const reason of PROBE_FAILURE_REASONS) this.probeFailures.remove({ gateway, reason });
    this.failovers.remove({ gateway });
  }

  /** A probe got a reply after `seconds`: sipdr_probe_rtt_seconds. */
  probeRtt(gwid: string, seconds: number): void {
    this.probeRttSeconds.observe({ gateway: gwid }, seconds);
  }

  /** A probe failed: sipdr_probe_failures_total. */
  probeFailed(gwid: string, reason: ProbeFailureReason): void {
    this.probeFailures.inc({ gateway: gwid, reason });
  }

  /** The router decided what to do with a new request: sipdr_routing_decisions_total. */
  routingDecision(outcome: RoutingOutcome): void {
    this.routingDecisions.inc({ outcome });
  }

  /** A call moved on from this gateway to the next destination: sipdr_failovers_total. */
  failover(gwid: string): void {
    this.failovers.inc({ gateway: gwid });
  }

  /** The leader put bindings back from the rows: sipdr_bindings_refilled_total. */
  bindingsRefilled(count: number): void {
    if (count > 0) this.refilledBindings.inc(count);
  }

  /** The registrar handled a REGISTER: sipdr_registrations_total. */
  registration(result: RegistrationResult): void {
    this.registrations.inc({ result });
  }

  /**
   * Where sipdr_bindings comes from, asked at each scrape. When the source
   * throws (or none is set) the gauge has no sample in that scrape: a count
   * we cannot read is neither 0 nor NaN (which would pass silently through
   * sums and comparisons), and `absent(sipdr_bindings)` can alert on it. The
   * rest of the scrape still succeeds; the store's failure shows in /health.
   */
  countBindingsWith(source: () => Promise<number>): void {
    this.bindingsSource = source;
  }

  /** A SIP request arrived: sipdr_sip_requests_total, unknown methods as 'other'. */
  sipRequest(method: string): void {
    this.sipRequests.inc({ method: methodLabel(method) });
  }

  /** We sent a response upstream: sipdr_sip_responses_total, unknown methods and codes outside 100–699 as 'other'. */
  sipResponse(method: string, status: number): void {
    this.sipResponses.inc({ method: methodLabel(method), code: codeLabel(status) });
  }

  /** A routing snapshot was put in use: sipdr_routing_rows_skipped, every drouting table's count (0 when none). */
  routingRowsSkipped(tables: readonly string[]): void {
    for (const table of DROUTING_TABLES)
      this.rowsSkipped.set({ table }, tables.filter((skipped) => skipped === table).length);
  }

  /** A reload of the routing data finished: sipdr_reloads_total. */
  reload(result: ReloadResult): void {
    this.reloads.inc({ result });
  }

  /**
   * The drachtio engine connected to `server` (its admin host:port) at start:
   * the connected gauge at 1 and both counters at 0, so that the first loss
   * shows in rate().
   */
  drachtioStarted(server: string): void {
    this.drachtioConnected.set({ server }, 1);
    this.drachtioDisconnections.inc({ server }, 0);
    this.drachtioReconnections.inc({ server }, 0);
  }

  /** The connection to drachtio-server was lost: sipdr_drachtio_disconnections_total, the gauge at 0. */
  drachtioLost(server: string): void {
    this.drachtioConnected.set({ server }, 0);
    this.drachtioDisconnections.inc({ server });
  }

  /** The connection came back after a loss: sipdr_drachtio_reconnections_total, the gauge at 1. */
  drachtioReconnected(server: string): void {
    this.drachtioConnected.set({ server }, 1);
    this.drachtioReconnections.inc({ server });
  }

  /** A request dropped unanswered: sipdr_requests_dropped_total. */
  requestDropped(reason: DropReason): void {
    this.droppedBy[reason].inc();
  }

  /** This process banned a source: sipdr_bans_total. */
  sourceBanned(): void {
    this.bansImposed.inc();
  }

  /** sipdr_banned_sources. */
  bannedSources(count: number): void {
    this.bannedSourcesNow.set(count);
  }

  /** A new request turned away for overload: sipdr_requests_shed_total. */
  shed(method: string): void {
    this.requestsShed.inc({ method });
  }

  /** sipdr_overloaded. */
  overloaded(on: boolean): void {
    this.overloadedNow.set(on ? 1 : 0);
  }

  /** A worker handed a message to the worker that owns it: sipdr_worker_handoffs_total. */
  handedOff(kind: HandoffKind): void {
    this.workerHandoffs.inc({ kind });
  }

  /** A TCP connection was turned away by a cap: sipdr_tcp_connections_refused_total. */
  tcpRefused(cap: TcpCap): void {
    this.tcpRefusals.inc({ cap });
  }

  /** We closed a TCP connection for breaking a limit: sipdr_tcp_connections_closed_total. */
  tcpClosed(reason: TcpCloseReason): void {
    this.tcpClosures.inc({ reason });
  }

  /** Every series with its aggregation across workers, for the cluster's primary to combine (cluster-metrics.ts). */
  snapshot(): Promise<MetricsSnapshot> {
    return this.registry.getMetricsAsJSON();
  }

  /** The exposition text and its content type, for GET /metrics. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  /** Name, type, label names and help of every sipdr_* metric, in the order they are exposed. */
  describe(): MetricDescription[] {
    return this.descriptions.map((description) => ({ ...description, labels: [...description.labels] }));
  }

  private async readBindings(): Promise<void> {
    try {
      if (this.bindingsSource) {
        this.bindings.set(await this.bindingsSource());
        return;
      }
    } catch {
      // Left out of this scrape, as countBindingsWith says.
    }
    this.bindings.remove();
  }

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    this.descriptions.push({ name, type: 'counter', labels: [...labelNames], help });
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** `aggregator`: how the cluster's primary combines the workers' values (prom-client sums by default). */
  private gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    collect?: () => Promise<void>,
    aggregator: Aggregator = 'sum',
  ): Gauge<L> {
    this.descriptions.push({ name, type: 'gauge', labels: [...labelNames], help });
    return new Gauge({ name, help, labelNames, registers: [this.registry], collect, aggregator });
  }

  private histogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: number[],
  ): Histogram<L> {
    this.descriptions.push({ name, type: 'histogram', labels: [...labelNames], help });
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }
}
