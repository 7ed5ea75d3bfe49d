/**
 * How many failures each key (a source address, a user) had in the current
 * window of `windowMs`: the count restarts when a failure comes after its
 * window ended. Bounded like TokenBuckets (keys come from the network).
 * Pure: the caller gives the time.
 */
interface Window {
  startMs: number;
  count: number;
}

export class FailureWindows {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys: number,
  ) {}

  /** Counts one failure of `key`; returns its count in the current window, this one included. */
  add(key: string, nowMs: number): number {
    const current = this.windows.get(key);
    const live = current && nowMs - current.startMs < this.windowMs ? current : undefined;
    this.windows.delete(key);
    if (!current && this.windows.size >= this.maxKeys) {
      const oldest = this.windows.keys().next();
      if (!oldest.done) this.windows.delete(oldest.value);
    }
    const next = live ? { startMs: live.startMs, count: live.count + 1 } : { startMs: nowMs, count: 1 };
    this.windows.set(key, next);
    return next.count;
  }

  /** Forgets a key (its source was banned: the count starts again after the ban). */
  clear(key: string): void {
    this.windows.delete(key);
  }
}
