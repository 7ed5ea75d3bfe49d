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
export function throttledReport(intervalMs: number, now: () => number): (write: (heldBackNote: string) => void) => void {
  const throttle = new ReportThrottle(intervalMs);
  return (write) => {
    const heldBack = throttle.admit(now());
    if (heldBack !== undefined) write(heldBack > 0 ? ` (and ${heldBack} more since the last report)` : '');
  };
}
