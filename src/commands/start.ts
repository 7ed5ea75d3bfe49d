import type { Config } from '../config/schema.js';
import { createLogger } from '../log.js';
import { startServer } from '../main.js';

/** SIGINT/SIGTERM must end the process within 2 s even if a close hangs. */
const SHUTDOWN_DEADLINE_MS = 1500;

/** `drouter start`: run until SIGINT/SIGTERM; SIGHUP reloads the routing data. */
export async function startCommand(config: Readonly<Config>): Promise<void> {
  const log = createLogger(config.log.level);
  const server = await startServer(config, log);
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `drouter stopping on ${signal}`);
    setTimeout(() => {
      log.warn('shutdown deadline passed; exiting with work unfinished');
      process.exit(0);
    }, SHUTDOWN_DEADLINE_MS).unref();
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        process.exit(0);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // The reload logs its own outcome; a failure leaves the old snapshot in use.
  process.on('SIGHUP', () => void server.reload().catch(() => undefined));
}
