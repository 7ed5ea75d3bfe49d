import type { BanStore } from '../cache/ban-store.js';
import type { LimitsConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { ReportThrottle } from '../core/report-throttle.js';
import type { Endpoint, RequestScreen, ScreenedRequest } from '../sip/engine.js';
import { SourceNetworks } from '../sip/source-networks.js';
import { type Ban, forgetAt, nextBan } from './core/ban-policy.js';
import { FailureWindows } from './core/failure-windows.js';
import { scannerMatcher } from './core/scanner-agents.js';
import { type BucketRate, TokenBuckets } from './core/token-buckets.js';
import { errorMessage } from '../errors.js';

/** Why a request was dropped without an answer. */
export type DropReason = 'banned' | 'rate-limited' | 'scanner';

/** What the metrics learn from the guard (src/metrics implements it). */
export interface GuardObserver {
  requestDropped(reason: DropReason): void;
  sourceBanned(): void;
  /** Sources under a ban right now, as this process knows them. */
  bannedSources(count: number): void;
}

/** The plain-text security log's notices (fail2ban reads them). */
export interface GuardNotices {
  sourceBanned(address: string, reason: string, seconds: number): void;
  scannerDropped(address: string, userAgent: string): void;
}

export interface SourceGuardDeps {
  bans: BanStore;
  config: Readonly<LimitsConfig>;
  /** Sources that are never limited or banned (gateways, auth.trustedSources, the address table). */
  trusted(source: Endpoint): boolean;
  log: Logger;
  notices: GuardNotices;
  observer: GuardObserver;
  now: () => number;
}

/** How often each node reads the shared bans (a ban made on the other node of a pair reaches this one within it). */
export const BAN_REFRESH_MS = 1000;
/** Drops over a rate are summed into one log line per this. */
const RATE_REPORT_MS = 10_000;
/** Cache failures of the ban list: one line per this. */
const STORE_REPORT_MS = 30_000;

/**
 * Kamailio's pike and fail2ban, built in: a token bucket per source for
 * REGISTER, INVITE and the rest; a failure count per source and per user,
 * where failed authentications and scanner requests score; a ban, shared
 * through the cache, that drops every packet of the source before it is
 * parsed. Trusted and exempt sources are never limited. The checks on the
 * packet path are synchronous map lookups: a banned flood costs a lookup.
 */
export class SourceGuard implements RequestScreen {
  /** address → when its ban ends (epoch ms): this node's copy of the shared list, plus its own new bans at once. */
  private banned = new Map<string, number>();
  /** Bans this node made whose record is still being written: a refresh in between must not drop them. */
  private readonly recording = new Set<string>();
  private readonly rates: Record<'REGISTER' | 'INVITE' | 'other', TokenBuckets | undefined>;
  private readonly sourceFailures: FailureWindows;
  private readonly userFailures: FailureWindows;
  private readonly rateDrops: FailureWindows;
  private readonly exempt: SourceNetworks;
  private readonly scannerOf: (userAgent: string | undefined) => string | undefined;
  private readonly rateReports = new ReportThrottle(RATE_REPORT_MS);
  private readonly storeReports = new ReportThrottle(STORE_REPORT_MS);
  private refresher: NodeJS.Timeout | undefined;

  constructor(private readonly deps: SourceGuardDeps) {
    const { config } = deps;
    const buckets = (rate: { perSecond: number; burst: number }): TokenBuckets | undefined =>
      config.enabled && rate.perSecond > 0
        ? new TokenBuckets(
            { ratePerSecond: rate.perSecond, burst: rate.burst } satisfies BucketRate,
            config.maxTrackedSources,
          )
        : undefined;
    this.rates = { REGISTER: buckets(config.register), INVITE: buckets(config.invite), other: buckets(config.other) };
    const windowMs = config.ban.windowSeconds * 1000;
    this.sourceFailures = new FailureWindows(windowMs, config.maxTrackedSources);
    this.userFailures = new FailureWindows(windowMs, config.maxTrackedSources);
    this.rateDrops = new FailureWindows(windowMs, config.maxTrackedSources);
    this.exempt = new SourceNetworks(config.exemptSources);
    this.scannerOf = scannerMatcher(config.enabled ? config.scannerUserAgents : []);
  }

  /** Reads the shared bans now and then every BAN_REFRESH_MS. */
  async start(): Promise<void> {
    await this.refresh();
    this.refresher = setInterval(() => void this.refresh(), BAN_REFRESH_MS);
    this.refresher.unref();
  }

  stop(): void {
    clearInterval(this.refresher);
  }

  admitsSource(address: string): boolean {
    const until = this.banned.get(address);
    if (until === undefined || until <= this.deps.now()) return true;
    this.deps.observer.requestDropped('banned');
    return false;
  }

  admits(request: ScreenedRequest): boolean {
    const { address } = request.source;
    if (!this.deps.config.enabled || this.isExempt(request.source)) return true;
    const scanner = this.scannerOf(request.userAgent);
    if (scanner !== undefined) {
      this.deps.observer.requestDropped('scanner');
      // One notice per source and window, not per packet: a scan is thousands of them.
      if (this.scoreFailure(address, `requests of a SIP scanner (User-Agent ${scanner})`) === 1)
        this.deps.notices.scannerDropped(address, request.userAgent ?? scanner);
      return false;
    }
    const buckets =
      request.method === 'REGISTER' || request.method === 'INVITE'
        ? this.rates[request.method]
        : request.method === 'ACK'
          ? undefined
          : this.rates.other;
    if (!buckets || buckets.take(address, this.deps.now())) return true;
    this.deps.observer.requestDropped('rate-limited');
    // A source that goes on far past its rate is a flood, not a busy office: banned too (Kamailio pike's block).
    const { overRate } = this.deps.config.ban;
    const drops = this.rateDrops.add(address, this.deps.now());
    if (overRate > 0 && drops >= overRate)
      this.impose(address, `${drops} requests over its rate in ${this.deps.config.ban.windowSeconds} s`);
    const heldBack = this.rateReports.admit(this.deps.now());
    if (heldBack !== undefined)
      this.deps.log.warn(
        { source: address, method: request.method, heldBack },
        `requests from ${address} over the ${request.method} rate dropped${heldBack > 0 ? ` (and ${heldBack} more over-rate requests since the last report)` : ''}`,
      );
    return false;
  }

  /** A refusal the security log reported (a failed authentication, an ACL or peer-type refusal, a forged in-dialog request) from `source` naming `user`. */
  authFailed(source: Endpoint, user: string | undefined): void {
    const { address } = source;
    if (!this.deps.config.enabled || this.isExempt(source)) return;
    const { ban } = this.deps.config;
    const againstUser = user !== undefined && ban.userFailures > 0 ? this.userFailures.add(user, this.deps.now()) : 0;
    if (againstUser >= ban.userFailures && ban.userFailures > 0) {
      this.impose(
        address,
        `failed authentication for user ${user ?? ''}, who had ${againstUser} failures in ${ban.windowSeconds} s`,
      );
      return;
    }
    this.scoreFailure(address, 'failed authentications');
  }

  /** The bans in force, from the shared list (for `drouter bans`). */
  async activeBans(): Promise<Ban[]> {
    const now = this.deps.now();
    return (await this.deps.bans.listBans()).filter((ban) => ban.untilMs > now).sort((a, b) => a.untilMs - b.untilMs);
  }

  /** Lifts a ban everywhere (its repeat count goes too); false when the source was not banned. */
  async unban(address: string): Promise<boolean> {
    const now = this.deps.now();
    const wasBanned = (this.banned.get(address) ?? 0) > now;
    this.banned.delete(address);
    this.sourceFailures.clear(address);
    const stored = await this.deps.bans.getBan(address);
    await this.deps.bans.deleteBan(address);
    const lifted = wasBanned || (stored !== undefined && stored.untilMs > now);
    if (lifted) this.deps.log.info({ source: address }, `ban of ${address} lifted by an operator`);
    return lifted;
  }

  private isExempt(source: Endpoint): boolean {
    return this.deps.trusted(source) || this.exempt.has(source.address);
  }

  /** Counts a failure of the source, banning it at the threshold; returns its count in the window. */
  private scoreFailure(address: string, reason: string): number {
    const { ban } = this.deps.config;
    const count = this.sourceFailures.add(address, this.deps.now());
    if (ban.failures > 0 && count >= ban.failures) this.impose(address, `${count} ${reason} in ${ban.windowSeconds} s`);
    return count;
  }

  /** Bans at once on this node, then records it for the others (its length depends on the source's previous bans). */
  private impose(address: string, reason: string): void {
    const now = this.deps.now();
    if ((this.banned.get(address) ?? 0) > now) return;
    const policy = this.policy();
    this.banned.set(address, nextBan(address, reason, undefined, now, policy).untilMs);
    this.sourceFailures.clear(address);
    this.rateDrops.clear(address);
    this.recording.add(address);
    void this.record(address, reason, now).finally(() => this.recording.delete(address));
  }

  private async record(address: string, reason: string, now: number): Promise<void> {
    const policy = this.policy();
    let ban = nextBan(address, reason, undefined, now, policy);
    try {
      ban = nextBan(address, reason, await this.deps.bans.getBan(address), now, policy);
      await this.deps.bans.putBan(ban);
    } catch (error) {
      this.storeFailed(error);
    }
    this.banned.set(address, ban.untilMs);
    this.deps.observer.sourceBanned();
    // The security log writes the one line of the ban, to the JSON log and for fail2ban.
    const repeat = ban.strikes > 1 ? ` (ban ${ban.strikes} within limits.ban.memorySeconds)` : '';
    this.deps.notices.sourceBanned(address, `${reason}${repeat}`, Math.round((ban.untilMs - now) / 1000));
  }

  /** Takes the shared list (bans made on other nodes, lifted ones gone) and forgets records past their memory. */
  private async refresh(): Promise<void> {
    const now = this.deps.now();
    try {
      const records = await this.deps.bans.listBans();
      const policy = this.policy();
      const next = new Map<string, number>();
      for (const ban of records) {
        if (forgetAt(ban, policy) <= now) await this.deps.bans.deleteBan(ban.address);
        else if (ban.untilMs > now) next.set(ban.address, ban.untilMs);
      }
      // A ban this node made a moment ago may not be written yet: keep it.
      for (const address of this.recording) next.set(address, this.banned.get(address) ?? now);
      this.banned = next;
    } catch (error) {
      this.storeFailed(error);
    }
    this.deps.observer.bannedSources([...this.banned.values()].filter((until) => until > now).length);
  }

  private storeFailed(error: unknown): void {
    const heldBack = this.storeReports.admit(this.deps.now());
    if (heldBack === undefined) return;
    this.deps.log.warn(
      { err: error },
      `the shared ban list is not reachable (${errorMessage(error)}); bans stay as this node knows them${heldBack > 0 ? ` (${heldBack} more failures since the last report)` : ''}`,
    );
  }

  private policy() {
    const { ban } = this.deps.config;
    return { banSeconds: ban.seconds, maxBanSeconds: ban.maxSeconds, memorySeconds: ban.memorySeconds };
  }
}
