import type { OverloadConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { mayShed, shedShare } from './shedding-policy.js';

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
/** The overloaded state (its log lines, its gauge) ends this long after the last sample that shed. */
const CALM_AFTER_MS = 1000;

/**
 * The server's own backlog, measured: how late a 20 ms timer fires is how
 * long a request waits before it is read; two late samples running make
 * an overload, one is a pause. Past the limits, new INVITEs and
 * REGISTERs are answered 503 with Retry-After before any work is done for
 * them (RFC 3261 §21.5.4); requests inside dialogs and calls already up go
 * on. It also remembers when it last ran late, so that a gateway's silence
 * measured while we were late is not held against the gateway.
 */
export class OverloadGuard {
  /** The lateness that counts: the lesser of the last two samples, so one pause (a GC, a start-up) is not an overload. */
  private lagMs = 0;
  private lastSampleMs = 0;
  private lastLateAt = Number.NEGATIVE_INFINITY;
  private overloaded = false;
  private lastShedAt = Number.NEGATIVE_INFINITY;
  private sampler: NodeJS.Timeout | undefined;
  private expectedAt = 0;

  constructor(private readonly deps: OverloadGuardDeps) {}

  start(): void {
    if (!this.deps.config.enabled) return;
    this.expectedAt = performance.now() + SAMPLE_MS;
    this.sampler = setInterval(() => this.sample(), SAMPLE_MS);
    this.sampler.unref();
  }

  stop(): void {
    clearInterval(this.sampler);
  }

  /** Whether this new request is turned away now (counted; the caller answers 503). */
  sheds(method: string, inDialog: boolean): boolean {
    if (!this.deps.config.enabled || !mayShed(method, inDialog)) return false;
    const share = shedShare(this.lagMs, this.deps.invitesInProgress(), this.deps.config);
    if (share <= 0 || (share < 1 && this.deps.random() >= share)) return false;
    this.deps.observer.shed(method);
    return true;
  }

  /** Whether the event loop ran late within the last `ms` (a local timeout then may be ours, not the peer's). */
  lateWithin(ms: number): boolean {
    return performance.now() - this.lastLateAt <= ms;
  }

  private sample(): void {
    const now = performance.now();
    const sample = Math.max(0, now - this.expectedAt);
    this.lagMs = Math.min(sample, this.lastSampleMs);
    this.lastSampleMs = sample;
    this.expectedAt = now + SAMPLE_MS;
    const { maxLagMs } = this.deps.config;
    const late = maxLagMs > 0 && this.lagMs > maxLagMs;
    if (late) this.lastLateAt = now;
    if (late || shedShare(this.lagMs, this.deps.invitesInProgress(), this.deps.config) > 0) this.lastShedAt = now;
    const overloaded = now - this.lastShedAt < CALM_AFTER_MS;
    if (overloaded === this.overloaded) return;
    this.overloaded = overloaded;
    this.deps.observer.overloaded(overloaded);
    if (overloaded) this.deps.log.warn({ lagMs: Math.round(this.lagMs), invitesInProgress: this.deps.invitesInProgress() }, `overloaded (event loop ${Math.round(this.lagMs)} ms late, ${this.deps.invitesInProgress()} INVITEs in progress): new INVITEs and REGISTERs are answered 503 with Retry-After`);
    else this.deps.log.info({}, 'no longer overloaded: new INVITEs and REGISTERs are served again');
  }
}
