/**
 * Runs the tasks of one key one after another, and of different keys side
 * by side: REGISTERs of one AoR in this process never race each other
 * (RFC 3261 §10.3 wants them applied in order), so the cache's
 * compare-and-swap only ever arbitrates between processes.
 */
export class PerAorQueue {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(aor: string, task: () => Promise<T>): Promise<T> {
    const before = this.tails.get(aor) ?? Promise.resolve();
    const result = before.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(aor, tail);
    // The last task of an AoR removes its entry, so the map holds only AoRs with work queued.
    void tail.then(() => {
      if (this.tails.get(aor) === tail) this.tails.delete(aor);
    });
    return result;
  }
}
