/**
 * Writes submitted in one event-loop turn go to the database in one
 * transaction: one sync of the log for all of them instead of one each.
 * A caller's promise settles only once its transaction has committed or
 * failed, so nothing is acknowledged (a REGISTER answered 200) before it is
 * on disk. When a batch fails, each write is retried alone, so one bad
 * write fails only its own caller.
 */
export class GroupCommit<W, R> {
  private pending: { write: W; resolve(result: R): void; reject(error: unknown): void }[] = [];

  /** `commit` writes all of `writes` in one transaction and returns one result per write, in order. */
  constructor(private readonly commit: (writes: readonly W[]) => Promise<readonly R[]>) {}

  submit(write: W): Promise<R> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => void this.flush());
      this.pending.push({ write, resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      const results = await this.commit(batch.map((entry) => entry.write));
      batch.forEach((entry, i) => entry.resolve(results[i] as R));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      await Promise.all(
        batch.map((entry) =>
          this.commit([entry.write]).then(
            (results) => entry.resolve(results[0] as R),
            (alone: unknown) => entry.reject(alone),
          ),
        ),
      );
    }
  }
}
