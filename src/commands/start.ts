import type { Config } from '../config/schema.js';
import { createLogger, type Logger } from '../log.js';
import { startServer } from '../main.js';

/** SIGINT/SIGTERM must end the process within 2 s even if a close hangs. */
export const SHUTDOWN_DEADLINE_MS = 1500;

/**
 * `drouter start`: run until SIGINT/SIGTERM; SIGHUP reopens the security
 * log and reloads the routing data. With `workers` > 1 this process
 * becomes the primary of a cluster of that many worker processes
 * (src/cluster/).
 */
export async function startCommand(config: Readonly<Config>, options: { workers?: number } = {}): Promise<void> {
  const log = createLogger(config.log.level);
  const workers = options.workers ?? 1;
  if (workers > 1) {
    const { runPrimary } = await import('../cluster/primary.js');
    await runPrimary(config, workers, log, SHUTDOWN_DEADLINE_MS);
    return;
  }
  const server = await startServer(config, log);
  const shutdown = serveUntilSignalled(server, log, SHUTDOWN_DEADLINE_MS);
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

/**
 * Reopens the security log and reloads on SIGHUP; returns the shutdown to
 * call on a stop signal: the server stops and the process exits 0, by
 * `deadlineMs` at the latest.
 */
export function serveUntilSignalled(
  server: {
    reload(): Promise<unknown>;
    reopenLogs?(): void;
    reloadCertificates?(): Promise<void>;
    stop(): Promise<void>;
  },
  log: Logger,
  deadlineMs: number,
): (signal: NodeJS.Signals | 'disconnect') => void {
  let stopping = false;
  // The security log is reopened for logrotate. The reloads log their own outcome; a failure leaves the old snapshot, and the old certificate, in use.
  process.on('SIGHUP', () => {
    server.reopenLogs?.();
    void server.reload().catch(() => undefined);
    void server.reloadCertificates?.();
  });
  return (signal) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `drouter stopping on ${signal}`);
    setTimeout(() => {
      log.warn('shutdown deadline passed; exiting with work unfinished');
      process.exit(0);
    }, deadlineMs).unref();
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        process.exit(0);
      },
    );
  };
}
