import type { SwitchCache } from '../cache/cache.js';
import type { ProbeConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { throttledReport } from '../core/report-throttle.js';
import type { Gateway, RoutingDestinations } from '../routing/core/routing-table.js';
import { endpointOf } from '../sip/core/endpoint.js';
import type { RequestOutcome, SipEngine } from '../sip/engine.js';
import { type HealthEvent, replyVerdict, wantsProbe } from './core/gateway-health.js';
import type { GatewayStateService } from './gateway-state-service.js';
import { errorMessage } from '../errors.js';

/** What the metrics learn from the prober (src/metrics implements it). */
export interface ProbeObserver {
  probeRtt(gwid: string, seconds: number): void;
  probeFailed(gwid: string, reason: 'timeout' | 'negative-reply' | 'send-failed'): void;
}

export interface ProberDeps {
  engine: Pick<SipEngine, 'request'>;
  states: GatewayStateService;
  /** The routing table in use right now (reloads swap it). */
  table: () => RoutingDestinations;
  /** Where the run-time on/off switch is kept, shared by the nodes. */
  cache: SwitchCache;
  config: Readonly<ProbeConfig>;
  log: Logger;
  observer: ProbeObserver;
  /** Whether this process ran late within the last `ms` (overloaded): a timeout then may be ours, not the gateway's. */
  overloadedWithin?(ms: number): boolean;
}

/**
 * OPTIONS to the gateways every `probe.intervalMs` (OpenSIPS
 * probing_interval): all due probes at once, never two outstanding to one
 * gateway, and never a gateway given up for good (Kamailio #3028): each
 * tick looks at every gateway again.
 */
/** How often a switch that cannot be read is said, at most. */
const SWITCH_REPORT_MS = 30_000;

export class Prober {
  private readonly outstanding = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** A cache outage fails every round's read of the switch: said once per interval. */
  private readonly switchReports = throttledReport(SWITCH_REPORT_MS, () => Date.now());

  constructor(private readonly deps: ProberDeps) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Probes still out are not waited for (a stop would take up to probe.timeoutMs); their outcomes are dropped. */
  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  /** The run-time switch (OpenSIPS dr_enable_probing): the shared value, else the configuration's. */
  async enabled(): Promise<boolean> {
    return (await this.deps.cache.getSwitch('probing')) ?? this.deps.config.enabled;
  }

  async setEnabled(on: boolean): Promise<void> {
    await this.deps.cache.setSwitch('probing', on);
    this.deps.log.info({ probing: on }, `probing switched ${on ? 'on' : 'off'}`);
  }

  /** One round: probe every gateway that wants it and has no probe out. */
  async tick(): Promise<void> {
    let on: boolean;
    try {
      on = await this.enabled();
    } catch (error) {
      // A dead cache must not stop probing: the configured switch applies.
      this.switchReports((since) =>
        this.deps.log.warn(
          { err: error },
          `probing switch not read from the cache; using probe.enabled: ${errorMessage(error)}${since}`,
        ),
      );
      on = this.deps.config.enabled;
    }
    if (!on) return;
    const due = [...this.deps.table().gateways.values()].filter(
      (gateway) =>
        !this.outstanding.has(gateway.gwid) && wantsProbe(gateway.probeMode, this.deps.states.stateOf(gateway)),
    );
    await Promise.all(due.map((gateway) => this.probe(gateway)));
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      // The next round is counted from this one's start, so a slow probe does not stretch the interval.
      if (!this.running) return;
      this.schedule(this.deps.config.intervalMs);
      this.tick().catch((error: unknown) =>
        this.deps.log.error({ err: error }, `probe round failed: ${errorMessage(error)}`),
      );
    }, delayMs);
  }

  private async probe(gateway: Gateway): Promise<void> {
    this.outstanding.add(gateway.gwid);
    try {
      const outcome = await this.deps.engine.request(
        {
          method: 'OPTIONS',
          uri: probeUri(gateway),
          destination: endpointOf(gateway.address),
          from: this.deps.config.from,
        },
        { timeoutMs: this.deps.config.timeoutMs },
      );
      // A reload meanwhile may have moved the gateway: this outcome says nothing about its new address.
      if (!this.running || this.deps.table().gateways.get(gateway.gwid) !== gateway) return;
      // Our own lateness is not the gateway's silence: a probe that timed out while we were overloaded says nothing.
      if (outcome.kind === 'timeout' && this.deps.overloadedWithin?.(outcome.rttMs)) return;
      this.observe(gateway, outcome);
      await this.deps.states.apply(gateway, eventOf(outcome, this.deps.config.timeoutMs));
    } finally {
      this.outstanding.delete(gateway.gwid);
    }
  }

  private observe(gateway: Gateway, outcome: RequestOutcome): void {
    const { observer, config } = this.deps;
    if (outcome.kind === 'response') {
      observer.probeRtt(gateway.gwid, outcome.rttMs / 1000);
      if (replyVerdict(outcome.status, config.replyCodes) === 'dead')
        observer.probeFailed(gateway.gwid, 'negative-reply');
    } else {
      observer.probeFailed(gateway.gwid, outcome.kind === 'timeout' ? 'timeout' : 'send-failed');
    }
  }
}

/** OpenSIPS probes `sip:<address>`: the gateway's address as configured, no user. */
function probeUri(gateway: Gateway): string {
  return `${gateway.address.scheme}:${gateway.address.hostPort}`;
}

function eventOf(outcome: RequestOutcome, timeoutMs: number): HealthEvent {
  switch (outcome.kind) {
    case 'response':
      return { kind: 'probe-reply', status: outcome.status, rttMs: outcome.rttMs };
    case 'timeout':
      return { kind: 'probe-timeout', timeoutMs };
    case 'send-failed':
      return { kind: 'probe-send-failed', error: outcome.error };
  }
}
