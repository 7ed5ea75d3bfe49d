/**
 * Writes go to the database in batches, one transaction each: one sync of
 * the log for all of them instead of one each. One batch commits at a
 * time; writes submitted meanwhile gather for the next, so the slower the
 * disk, the bigger the batches. A caller's promise settles only once its
 * transaction has committed or failed, so nothing is acknowledged (a
 * REGISTER answered 200) before it is on disk, and writes commit in the
 * order they were submitted. When a batch fails, each write is retried
 * alone, so one bad write fails only its own caller.
 */
export class GroupCommit<W, R> {
  private pending: { write: W; resolve(result: R): void; reject(error: unknown): void }[] = [];
  /** A flush is scheduled or running: new writes wait for the next one. */
  private busy = false;

  /** `commit` writes all of `writes` in one transaction and returns one result per write, in order. */
  constructor(private readonly commit: (writes: readonly W[]) => Promise<readonly R[]>) {}

  submit(write: W): Promise<R> {
    return new Promise((resolve, reject) => {
      this.pending.push({ write, resolve, reject });
      if (!this.busy) this.schedule();
    });
  }

  /** After this event-loop turn, so every write of the turn joins the batch. */
  private schedule(): void {
    this.busy = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      await this.commitBatch(batch);
    } finally {
      if (this.pending.length > 0) this.schedule();
      else this.busy = false;
    }
  }

  private async commitBatch(batch: typeof this.pending): Promise<void> {
    try {
      const results = await this.commit(batch.map((entry) => entry.write));
      batch.forEach((entry, i) => entry.resolve(results[i] as R));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      // One at a time, in order, as the batch would have committed.
      for (const entry of batch) {
        await this.commit([entry.write]).then(
          (results) => entry.resolve(results[0] as R),
          (alone: unknown) => entry.reject(alone),
        );
      }
    }
  }
}
