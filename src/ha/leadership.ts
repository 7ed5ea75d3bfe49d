import type { Fence, LeaseCache } from '../cache/cache.js';
import type { Logger } from '../log.js';
import { type KeepalivedState, type KeepalivedView, readKeepalivedState } from './keepalived-state.js';
import { errorMessage } from '../errors.js';

export interface LeadershipOptions {
  /** This process's name in the lease: node name, pid and a random tag, so a restarted process is a new holder. */
  holder: string;
  ttlMs: number;
  renewIntervalMs: number;
  /** ha.keepalivedStateFile: '' lets this node contend always; otherwise only while keepalived says MASTER. */
  keepalivedStateFile: string;
}

export interface LeadershipDeps {
  cache: LeaseCache;
  /** Monotonic milliseconds (performance.now): the lease's deadline must not move with the wall clock. */
  now: () => number;
  log: Logger;
  /** Called on every change of role, with the reason. */
  onChange(leader: boolean, reason: string): void;
}

export type Role = 'leader' | 'standby';

export interface LeadershipStatus {
  holder: string;
  role: Role;
  keepalived: KeepalivedView;
  /** Who holds the lease by the cache, null when nobody (or the cache does not answer). */
  leaseHolder: string | null;
  /** The fencing token of this node's holding of the lease, null while it stands by. */
  token: number | null;
}

/**
 * Our lease ends this much before the cache's copy does: the cache counts
 * from when the claim arrived, we from before it was sent, so we always
 * stop first; the margin covers the two clocks running at slightly
 * different rates.
 */
const SAFETY_MARGIN_MS = 100;

/** Whether this node may contend: with keepalived in charge, only its MASTER does (the lease still decides between two). */
export function contends(keepalivedStateFile: string, keepalived: KeepalivedView): boolean {
  return keepalivedStateFile === '' || keepalived === 'MASTER';
}

/**
 * One leader among the nodes (and worker processes) sharing a cache, for
 * the singleton work: probing, the expiry sweep. A Redis lease (SET NX PX,
 * extended every renewIntervalMs) decides, so a split brain in which both
 * nodes' keepalived say MASTER still has one leader. The leader stops the
 * moment its own copy of the lease runs out, renewed or not (a cache that
 * stops answering ends the leadership on time), and its fenced writes are
 * refused by the cache once another node holds the lease. Each holding has
 * its own fencing token: a renewal that comes back with another token (the
 * lease was lost, say in a Redis failover, and taken again) fences the
 * writes made under the old one.
 */
export class Leadership {
  private leader = false;
  private validUntil = 0;
  private token = 0;
  private keepalived: KeepalivedView = 'unknown';
  private renewTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  /** The round asked for while one runs: it starts when that one ends. */
  private queued: Promise<void> | undefined;
  private stopped = false;
  private claimFailing = false;

  constructor(
    private readonly options: LeadershipOptions,
    private readonly deps: LeadershipDeps,
  ) {}

  /** The first round is awaited, so a lone node starts as the leader. */
  async start(): Promise<void> {
    await this.tick();
    this.renewTimer = setInterval(() => void this.tick(), this.options.renewIntervalMs);
    this.renewTimer.unref();
  }

  isLeader(): boolean {
    return this.leader && this.deps.now() < this.validUntil;
  }

  /** The fence for singleton writes, while this node is the leader. */
  fence(): Fence | undefined {
    return this.isLeader() ? { lease: 'leader', holder: this.options.holder, token: this.token } : undefined;
  }

  /** keepalived's notify, through the admin API: act on it now rather than at the next renewal. */
  async keepalivedSaid(state: KeepalivedState): Promise<void> {
    this.keepalived = state;
    await this.tick();
  }

  async status(): Promise<LeadershipStatus> {
    const leaseHolder = await this.deps.cache.leaseHolder('leader').catch(() => undefined);
    const leader = this.isLeader();
    return {
      holder: this.options.holder,
      role: leader ? 'leader' : 'standby',
      keepalived: this.keepalived,
      leaseHolder: leaseHolder ?? null,
      token: leader ? this.token : null,
    };
  }

  /** Stops contending; a leader gives the lease up so the other node need not wait for it to run out. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.renewTimer);
    await (this.queued ?? this.ticking);
    await this.stepDown('this node is stopping', true);
  }

  /**
   * One round at a time; a round asked for meanwhile runs right after, and
   * the caller waits for that one (a keepalived notice is acted on by a
   * round that started after it, not by the one already under way).
   */
  private tick(): Promise<void> {
    if (this.queued) return this.queued;
    if (this.ticking) {
      this.queued = this.ticking.then(() => {
        this.queued = undefined;
        return this.stopped ? undefined : this.tick();
      });
      return this.queued;
    }
    this.ticking = this.round().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async round(): Promise<void> {
    if (this.stopped) return;
    const file = this.options.keepalivedStateFile;
    if (file !== '') {
      try {
        this.keepalived = await readKeepalivedState(file);
      } catch (error) {
        this.deps.log.error(
          { err: error, file },
          `keepalived state not read from ${file} (keeping ${this.keepalived}): ${errorMessage(error)}`,
        );
      }
    }
    if (!contends(file, this.keepalived)) {
      await this.stepDown(`keepalived says ${this.keepalived}`, true);
      return;
    }
    const sentAt = this.deps.now();
    let token: number | undefined;
    try {
      token = await this.deps.cache.claimLease('leader', this.options.holder, this.options.ttlMs);
    } catch (error) {
      // The lease lasts until its deadline: the deadline timer ends the leadership if no renewal comes.
      if (!this.claimFailing) this.deps.log.error({ err: error }, `leader lease not renewed: ${errorMessage(error)}`);
      this.claimFailing = true;
      return;
    }
    this.claimFailing = false;
    if (this.stopped) return;
    if (token === undefined) {
      await this.stepDown('another node holds the leader lease', false);
      return;
    }
    const retaken = this.leader && token !== this.token;
    this.token = token;
    this.validUntil = sentAt + this.options.ttlMs - SAFETY_MARGIN_MS;
    this.armDeadline();
    if (retaken)
      this.deps.log.warn(
        { holder: this.options.holder, token },
        `${this.options.holder} took the leader lease again under token ${token}: it had been lost (a Redis failover?); writes under the old token are refused`,
      );
    if (!this.leader) {
      this.leader = true;
      this.deps.onChange(true, 'took the leader lease');
    }
  }

  /** Ends the leadership when the lease's deadline passes with no renewal (each renewal sets a new timer). */
  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(
      () => {
        if (this.leader) void this.stepDown('the leader lease ran out before it was renewed', false);
      },
      Math.max(0, this.validUntil - this.deps.now()),
    );
    this.deadlineTimer.unref();
  }

  private async stepDown(reason: string, release: boolean): Promise<void> {
    clearTimeout(this.deadlineTimer);
    const wasLeader = this.leader;
    this.leader = false;
    this.validUntil = 0;
    if (wasLeader) this.deps.onChange(false, reason);
    if (!wasLeader || !release) return;
    await this.deps.cache.releaseLease('leader', this.options.holder).catch((error: unknown) => {
      this.deps.log.warn({ err: error }, `leader lease not released (it runs out by itself): ${errorMessage(error)}`);
    });
  }
}
