import { collectDefaultMetrics, type Gauge } from 'prom-client';
import type { DropReason } from '../defence/source-guard-service.js';
import {
  SIPDR_BANNED_SOURCES,
  SIPDR_BANS_TOTAL,
  SIPDR_BINDINGS,
  SIPDR_BINDINGS_REFILLED_TOTAL,
  SIPDR_BUILD_INFO,
  SIPDR_DRACHTIO_CONNECTED,
  SIPDR_DRACHTIO_DISCONNECTIONS_TOTAL,
  SIPDR_DRACHTIO_RECONNECTIONS_TOTAL,
  SIPDR_FAILOVERS_TOTAL,
  SIPDR_GATEWAY_STATE,
  SIPDR_GATEWAY_STATE_CHANGES_TOTAL,
  SIPDR_GATEWAY_UP,
  SIPDR_HA_LEADER,
  SIPDR_HA_LEADER_CHANGES_TOTAL,
  SIPDR_OVERLOADED,
  SIPDR_PROBE_FAILURES_TOTAL,
  SIPDR_PROBE_RTT_SECONDS,
  SIPDR_REGISTRATIONS_TOTAL,
  SIPDR_RELOADS_TOTAL,
  SIPDR_REQUESTS_DROPPED_TOTAL,
  SIPDR_REQUESTS_SHED_TOTAL,
  SIPDR_ROUTING_DECISIONS_TOTAL,
  SIPDR_ROUTING_ROWS_SKIPPED,
  SIPDR_SIP_REQUESTS_TOTAL,
  SIPDR_SIP_RESPONSES_TOTAL,
  SIPDR_TCP_CONNECTIONS_CLOSED_TOTAL,
  SIPDR_TCP_CONNECTIONS_REFUSED_TOTAL,
  SIPDR_WORKER_HANDOFFS_TOTAL,
} from './metric-definitions.js';
import {
  codeLabel,
  DROP_REASONS,
  DROUTING_TABLES,
  GATEWAY_STATES,
  type GatewayStateName,
  HANDOFF_KINDS,
  type HandoffKind,
  methodLabel,
  OTHER,
  PROBE_FAILURE_REASONS,
  type ProbeFailureReason,
  REGISTRATION_RESULTS,
  type RegistrationResult,
  RELOAD_RESULTS,
  type ReloadResult,
  ROUTING_OUTCOMES,
  type RoutingOutcome,
  SHED_METHODS,
  SIP_METHODS,
  TCP_CAPS,
  TCP_CLOSE_REASONS,
  type TcpCap,
  type TcpCloseReason,
} from './metric-labels.js';
import { MetricRegistry } from './metric-registry.js';

/**
 * The product's Prometheus metrics: what the services tell them, onto the
 * series of metric-definitions.ts.
 */
export class Metrics extends MetricRegistry {
  private bindingsSource: (() => Promise<number>) | undefined;

  private readonly gatewayUp = this.gauge(SIPDR_GATEWAY_UP);
  private readonly gatewayStates = this.gauge(SIPDR_GATEWAY_STATE);
  private readonly gatewayStateChanges = this.counter(SIPDR_GATEWAY_STATE_CHANGES_TOTAL);
  private readonly probeRttSeconds = this.histogram(SIPDR_PROBE_RTT_SECONDS);
  private readonly probeFailures = this.counter(SIPDR_PROBE_FAILURES_TOTAL);
  private readonly routingDecisions = this.counter(SIPDR_ROUTING_DECISIONS_TOTAL);
  private readonly failovers = this.counter(SIPDR_FAILOVERS_TOTAL);
  private readonly registrations = this.counter(SIPDR_REGISTRATIONS_TOTAL);
  private readonly refilledBindings = this.counter(SIPDR_BINDINGS_REFILLED_TOTAL);
  private readonly bindings: Gauge = this.gauge(SIPDR_BINDINGS, () => this.readBindings());
  private readonly sipRequests = this.counter(SIPDR_SIP_REQUESTS_TOTAL);
  private readonly sipResponses = this.counter(SIPDR_SIP_RESPONSES_TOTAL);
  private readonly reloads = this.counter(SIPDR_RELOADS_TOTAL);
  private readonly rowsSkipped = this.gauge(SIPDR_ROUTING_ROWS_SKIPPED);
  private readonly workerHandoffs = this.counter(SIPDR_WORKER_HANDOFFS_TOTAL);
  private readonly tcpRefusals = this.counter(SIPDR_TCP_CONNECTIONS_REFUSED_TOTAL);
  private readonly tcpClosures = this.counter(SIPDR_TCP_CONNECTIONS_CLOSED_TOTAL);
  private readonly requestsDropped = this.counter(SIPDR_REQUESTS_DROPPED_TOTAL);
  /** Bound once: a banned flood counts every datagram, and a labelled inc() hashes its labels each time. */
  private readonly droppedBy = Object.fromEntries(
    DROP_REASONS.map((reason) => [reason, this.requestsDropped.labels({ reason })]),
  ) as Record<DropReason, { inc(): void }>;
  private readonly bansImposed = this.counter(SIPDR_BANS_TOTAL);
  private readonly bannedSourcesNow = this.gauge(SIPDR_BANNED_SOURCES);
  private readonly requestsShed = this.counter(SIPDR_REQUESTS_SHED_TOTAL);
  private readonly overloadedNow = this.gauge(SIPDR_OVERLOADED);
  private readonly drachtioConnected = this.gauge(SIPDR_DRACHTIO_CONNECTED);
  private readonly drachtioDisconnections = this.counter(SIPDR_DRACHTIO_DISCONNECTIONS_TOTAL);
  private readonly drachtioReconnections = this.counter(SIPDR_DRACHTIO_RECONNECTIONS_TOTAL);
  private readonly haLeader = this.gauge(SIPDR_HA_LEADER);
  private readonly haLeaderChanges = this.counter(SIPDR_HA_LEADER_CHANGES_TOTAL);
  private readonly build = this.gauge(SIPDR_BUILD_INFO);

  constructor() {
    super();
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
}
