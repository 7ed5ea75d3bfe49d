import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { DrouterError, errorMessage } from '../errors.js';

/** What went wrong with the file, said once per episode (not once per line). */
export type FileTrouble =
  | { kind: 'failed'; error: unknown }
  /** The disk does not keep up: lines are dropped until it catches up (memory stays bounded). */
  | { kind: 'behind'; pendingBytes: number }
  /** A new opening works again (after a reopen); `lost` lines went nowhere meanwhile. */
  | { kind: 'recovered'; lost: number };

/** Lines waiting for the disk beyond this are dropped (a brute force writes a line per guess). */
const MAX_PENDING_BYTES = 1024 * 1024;

/**
 * A text file lines are appended to, for fail2ban to read: never waits for
 * the disk and never throws once open. A failing write costs one report and
 * the lines until `reopen()` (SIGHUP, after logrotate moved the file) opens
 * it again. Opened with O_APPEND, so the processes of `--workers N` may share
 * it and logrotate's copytruncate works too.
 */
export class AppendingFile {
  private stream: WriteStream;
  private failed = false;
  private behind = false;
  private lost = 0;

  /** Opens `path` now, so a file that cannot be written stops the start (DROUTER_ERR_CONFIG) instead of leaving fail2ban blind. */
  constructor(
    readonly path: string,
    private readonly report: (trouble: FileTrouble) => void,
    private readonly maxPendingBytes = MAX_PENDING_BYTES,
  ) {
    let fd: number;
    try {
      fd = openSync(path, 'a', 0o640);
    } catch (error) {
      throw new DrouterError(
        'DROUTER_ERR_CONFIG',
        `log.securityFile = ${JSON.stringify(path)}: cannot be opened for appending (${errorMessage(error)}); create its folder, give this user write access, or set another path`,
        { cause: error },
      );
    }
    this.stream = this.watched(createWriteStream(path, { fd, highWaterMark: maxPendingBytes }));
  }

  append(line: string): void {
    if (this.failed) {
      this.lost++;
      return;
    }
    // The bound is the stream's high-water mark: the write that reached it returned false, so 'drain' will come.
    const pendingBytes = this.stream.writableLength;
    if (pendingBytes >= this.maxPendingBytes) {
      this.lost++;
      if (!this.behind) this.report({ kind: 'behind', pendingBytes });
      this.behind = true;
      return;
    }
    this.stream.write(`${line}\n`);
  }

  /** Opens the path again (logrotate moved the file away); what was written to the old one is flushed there. */
  reopen(): void {
    const old = this.stream;
    this.failed = false;
    this.behind = false;
    this.stream = this.watched(
      createWriteStream(this.path, { flags: 'a', mode: 0o640, highWaterMark: this.maxPendingBytes }),
    );
    this.stream.once('open', () => this.recovered());
    old.end();
  }

  /** Flushes and closes; a failed file closes at once. */
  close(): Promise<void> {
    const { stream } = this;
    if (stream.destroyed) return Promise.resolve();
    return new Promise((resolve) => stream.end(() => resolve()));
  }

  private recovered(): void {
    if (this.lost === 0) return;
    this.report({ kind: 'recovered', lost: this.lost });
    this.lost = 0;
  }

  private watched(stream: WriteStream): WriteStream {
    stream.on('error', (error) => {
      // An old stream failing after a reopen concerns a file no longer written.
      if (stream !== this.stream || this.failed) return;
      this.failed = true;
      this.report({ kind: 'failed', error });
    });
    stream.on('drain', () => {
      if (stream !== this.stream || !this.behind) return;
      this.behind = false;
      this.recovered();
    });
    return stream;
  }
}
