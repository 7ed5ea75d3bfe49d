/**
 * At most one report of a repeating problem per interval, and how many
 * were held back since the last one: a dead socket or an unreachable
 * database fails on every message, and one log line per message would
 * flood the log while it lasts. Pure: the caller gives the time.
 */
export class ReportThrottle {
  private lastReportAt = Number.NEGATIVE_INFINITY;
  private heldBack = 0;

  constructor(private readonly intervalMs: number) {}

  /** The number held back since the last report when this one is to be made (0 or more); undefined when it is held back. */
  admit(nowMs: number): number | undefined {
    if (nowMs - this.lastReportAt < this.intervalMs) {
      this.heldBack++;
      return undefined;
    }
    const heldBack = this.heldBack;
    this.lastReportAt = nowMs;
    this.heldBack = 0;
    return heldBack;
  }
}

/**
 * A report made at most once per `intervalMs`: `write` gets the note to end
 * its line with (empty, or how many reports were held back since the last).
 */
export function throttledReport(
  intervalMs: number,
  now: () => number,
): (write: (heldBackNote: string) => void) => void {
  const throttle = new ReportThrottle(intervalMs);
  return (write) => {
    const heldBack = throttle.admit(now());
    if (heldBack !== undefined) write(heldBack > 0 ? ` (and ${heldBack} more since the last report)` : '');
  };
}

/**
 * At most one report per key per interval, for problems that belong to one
 * thing (a peer's column): each key is said on its own, not drowned by the
 * others, and a repeat of the same one waits out the interval. Remembers at
 * most `maxKeys`, the oldest forgotten first, so keys taken from requests
 * cost bounded memory. Pure: the caller gives the time.
 */
export class KeyedReportThrottle {
  private readonly lastReportAt = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    private readonly maxKeys: number,
  ) {}

  /** True when a report on `key` is to be made now. */
  admit(key: string, nowMs: number): boolean {
    const last = this.lastReportAt.get(key);
    if (last !== undefined && nowMs - last < this.intervalMs) return false;
    // Re-inserted, so the Map's order stays oldest report first.
    this.lastReportAt.delete(key);
    this.lastReportAt.set(key, nowMs);
    if (this.lastReportAt.size > this.maxKeys) {
      const oldest = this.lastReportAt.keys().next().value;
      if (oldest !== undefined) this.lastReportAt.delete(oldest);
    }
    return true;
  }
}
