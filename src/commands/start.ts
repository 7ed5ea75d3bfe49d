import type { Config } from '../config/schema.js';
import { createLogger } from '../log.js';
import { serveUntilSignalled } from '../lifecycle/signals.js';
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
