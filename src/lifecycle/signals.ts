import type { Logger } from '../log.js';

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
