import type { OverloadConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { mayShed, nextUtilizationShare, shedShare, smoothedUtilization } from './core/shedding-policy.js';

/** What the metrics learn from the overload guard (src/metrics implements it). */
export interface OverloadObserver {
  shed(method: string): void;
  overloaded(on: boolean): void;
}

export interface OverloadGuardDeps {
  config: Readonly<OverloadConfig>;
  /** INVITEs being proxied right now (the engine's stats). */
  invitesInProgress(): number;
  log: Logger;
  observer: OverloadObserver;
  random: () => number;
}

/** How often the event loop's lateness is sampled. */
const SAMPLE_MS = 20;
/** The loop's busy share is read every this many samples (100 ms): shorter windows are noise. */
const UTILIZATION_EVERY_SAMPLES = 5;
/** The overloaded state (its log lines, its gauge) ends this long after the last sample that shed. */
const CALM_AFTER_MS = 1000;

/**
 * The server's own backlog, measured three ways: how late a 20 ms timer
 * fires (two late samples running make an overload, one is a pause), the
 * share of time the event loop is busy (over UDP the backlog waits in the
 * socket's buffer, unseen by the timer), and the INVITEs in progress. Past the limits, new INVITEs and
 * REGISTERs are answered 503 with Retry-After before any work is done for
 * them (RFC 3261 §21.5.4); requests inside dialogs and calls already up go
 * on. It also remembers when it last ran late, so that a gateway's silence
 * measured while we were late is not held against the gateway.
 */
export class OverloadGuard {
  /** The lateness that counts: the lesser of the last two samples, so one pause (a GC, a start-up) is not an overload. */
  private lagMs = 0;
  private lastSampleMs = 0;
  private expectedAt = 0;
  /** The share shed for the loop's busy time (nextUtilizationShare), and the busy-time reading it is adjusted from. */
  private utilizationShare = 0;
  private utilization = performance.eventLoopUtilization();
  /** The busy share smoothed over the last few readings (smoothedUtilization). */
  private busy = 0;
  private samples = 0;
  private overloaded = false;
  private lastStrainedAt = Number.NEGATIVE_INFINITY;
  private sampler: NodeJS.Timeout | undefined;

  constructor(private readonly deps: OverloadGuardDeps) {}

  start(): void {
    if (!this.deps.config.enabled) return;
    this.expectedAt = performance.now() + SAMPLE_MS;
    this.utilization = performance.eventLoopUtilization();
    this.sampler = setInterval(() => this.sample(), SAMPLE_MS);
    this.sampler.unref();
  }

  stop(): void {
    clearInterval(this.sampler);
  }

  /** Whether this new request is turned away now (counted; the caller answers 503). */
  sheds(method: string, inDialog: boolean): boolean {
    if (!this.deps.config.enabled || !mayShed(method, inDialog)) return false;
    const share = this.share();
    if (share <= 0 || (share < 1 && this.deps.random() >= share)) return false;
    this.deps.observer.shed(method);
    // A cap of INVITEs in progress can be reached and left between two samples: the shed request still says so.
    this.strained(performance.now());
    return true;
  }

  /**
   * Whether we were overloaded within the last `ms`: a local timeout then may
   * be ours (the answer waited in our socket's buffer or behind a late loop),
   * not the peer's silence.
   */
  overloadedWithin(ms: number): boolean {
    return performance.now() - this.lastStrainedAt <= ms;
  }

  private share(): number {
    return Math.max(this.utilizationShare, shedShare(this.lagMs, this.deps.invitesInProgress(), this.deps.config));
  }

  private sample(): void {
    const now = performance.now();
    const sample = Math.max(0, now - this.expectedAt);
    this.lagMs = Math.min(sample, this.lastSampleMs);
    this.lastSampleMs = sample;
    this.expectedAt = now + SAMPLE_MS;
    if (++this.samples % UTILIZATION_EVERY_SAMPLES === 0) {
      this.busy = smoothedUtilization(this.busy, performance.eventLoopUtilization(this.utilization).utilization);
      this.utilization = performance.eventLoopUtilization();
      this.utilizationShare = nextUtilizationShare(
        this.utilizationShare,
        this.busy,
        this.deps.config.maxLoopUtilization,
      );
    }
    if (this.share() > 0) this.strained(now);
    else this.enter(now - this.lastStrainedAt < CALM_AFTER_MS);
  }

  private strained(now: number): void {
    this.lastStrainedAt = now;
    this.enter(true);
  }

  /** The overloaded state's changes: its gauge and one log line each way. */
  private enter(overloaded: boolean): void {
    if (overloaded === this.overloaded) return;
    this.overloaded = overloaded;
    this.deps.observer.overloaded(overloaded);
    const invites = this.deps.invitesInProgress();
    if (overloaded)
      this.deps.log.warn(
        { lagMs: Math.round(this.lagMs), invitesInProgress: invites, shedShare: this.share() },
        `overloaded (event loop ${Math.round(this.lagMs)} ms late, ${invites} INVITEs in progress, shedding ${Math.round(this.share() * 100)} %): new INVITEs and REGISTERs are answered 503 with Retry-After`,
      );
    else this.deps.log.info({}, 'no longer overloaded: new INVITEs and REGISTERs are served again');
  }
}
