import { Worker } from 'node:worker_threads';
import { StoreUnreachableError } from '../../errors.js';
import { REGISTRATION_COLUMN_NAMES, type RegistrationColumns, sippeersTable } from '../../core/model/sippeers-table.js';

export interface RegistrationWrite {
  name: string;
  columns: Partial<RegistrationColumns>;
  /** Only a row whose regseconds is at most this (epoch seconds): the expiry sweep must not clear a registration refreshed meanwhile. */
  expiredBy?: number | undefined;
}

type Reply = { batch: number; updated: boolean[] } | { batch: number; error: { message: string; code?: string } };

/**
 * rtupdate's write-backs to a SQLite file, committed on a thread of their
 * own (sqlite-writer-thread.js) with its own connection: better-sqlite3 is
 * synchronous, and on the SIP thread every commit's sync stalled every call
 * and registration (the REGISTER benchmark's p95). The write-ahead log lets
 * the SIP thread's reads go on meanwhile. A thread that dies fails its
 * pending batches with StoreUnreachableError and is started again by the
 * next batch.
 */
export class SqliteWriterThread {
  private worker: Worker | undefined;
  private lastBatch = 0;
  private readonly waiting = new Map<number, { resolve(updated: boolean[]): void; reject(error: Error): void }>();

  constructor(
    private readonly filename: string,
    private readonly displayUrl: string,
  ) {}

  /** Writes the batch in one transaction: per write, whether a row had that name. */
  commit(writes: readonly RegistrationWrite[]): Promise<boolean[]> {
    const worker = this.worker ?? this.start();
    const batch = ++this.lastBatch;
    return new Promise((resolve, reject) => {
      this.waiting.set(batch, { resolve, reject });
      worker.postMessage({ batch, writes });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(new URL('./sqlite-writer-thread.js', import.meta.url), {
      workerData: { filename: this.filename, table: sippeersTable.name, columnNames: REGISTRATION_COLUMN_NAMES },
    });
    // Pending writes keep their callers waiting, not the process: close() ends the thread.
    worker.unref();
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new Error(`the SQLite writer thread exited with code ${code}`));
    });
    this.worker = worker;
    return worker;
  }

  private settle(reply: Reply): void {
    const waiter = this.waiting.get(reply.batch);
    if (!waiter) return;
    this.waiting.delete(reply.batch);
    if ('updated' in reply) {
      waiter.resolve(reply.updated);
      return;
    }
    // Keep SQLite's code (SQLITE_CANTOPEN, …) so the store can classify the failure.
    waiter.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
  }

  private failAll(cause: unknown): void {
    const error = new StoreUnreachableError(this.displayUrl, cause);
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }
}
