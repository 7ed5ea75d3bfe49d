import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/schema.js';
import { listeningText } from '../sip/core/endpoint.js';
import { serveUntilSignalled } from '../lifecycle/signals.js';
import { ConfigError } from '../errors.js';
import { plural } from '../core/plural.js';
import type { Logger } from '../log.js';
import { aggregateSnapshots } from '../metrics/cluster-metrics.js';
import { prepareStore } from '../store/knex/open-store.js';
import { type AdminFront, startAdminFront } from './admin-front.js';
import { WorkerSupervisor } from './worker-supervisor.js';
import { workerConfigViolations } from './core/workers-config.js';

const WORKER_ENTRY = fileURLToPath(new URL('./worker-main.js', import.meta.url));
/** A worker that does not send its metrics within this long is left out of that scrape. */
const METRICS_TIMEOUT_MS = 2000;
/** Workers get this long to stop on their own before they are killed, inside the process's deadline. */
const WORKERS_STOP_MS = 1200;

/**
 * `drouter start --workers N` (N > 1): this process is the cluster's
 * primary. It handles no SIP itself: it prepares the store once, forks the
 * workers (worker-main.ts) and keeps them running, serves the node's one
 * admin address in front of theirs, passes SIGHUP on to every worker and
 * stops them all on SIGINT/SIGTERM within `shutdownDeadlineMs`.
 */
export async function runPrimary(
  config: Readonly<Config>,
  workers: number,
  log: Logger,
  shutdownDeadlineMs: number,
): Promise<void> {
  const violations = workerConfigViolations(config, workers);
  if (violations.length > 0) throw new ConfigError(violations);
  // Once, here: N workers creating a fresh schema at the same moment would collide.
  const prepared = await prepareStore(config.store.url, { seedExample: config.store.seedExample, log });
  const storeUrl = prepared.store.displayUrl;
  await prepared.store.close();

  const supervisor = new WorkerSupervisor({
    count: workers,
    config: workerConfig(config),
    exec: WORKER_ENTRY,
    log,
    now: () => performance.now(),
  });
  let front: AdminFront | undefined;
  // From the first fork on: a stop signal while the workers start must stop them too.
  const shutdown = serveUntilSignalled(
    {
      reload: async () => {
        const signalled = supervisor.signalAll('SIGHUP');
        log.info(
          { signal: 'SIGHUP', workers: signalled },
          `SIGHUP: each of ${plural(signalled, 'worker')} reloads the routing data`,
        );
      },
      stop: async () => {
        await Promise.all([front?.close(), supervisor.stop(Math.min(WORKERS_STOP_MS, shutdownDeadlineMs - 100))]);
      },
    },
    log,
    shutdownDeadlineMs,
  );
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  try {
    await supervisor.start();
    front = await startAdminFront(
      config.admin,
      {
        ready: () => supervisor.ready(),
        status: () => supervisor.status(),
        metrics: async () => aggregateSnapshots(await supervisor.metrics(METRICS_TIMEOUT_MS)),
      },
      log,
    );
  } catch (error) {
    process.removeListener('SIGINT', shutdown);
    process.removeListener('SIGTERM', shutdown);
    await supervisor.stop(WORKERS_STOP_MS);
    throw error;
  }

  const pids = supervisor.ready().map((worker) => worker.pid);
  const schemaNote = prepared.schemaCreated
    ? ' (schema created' + (prepared.seeded ? ', example data loaded)' : ')')
    : '';
  const sip = listeningText(config.sip);
  log.info(
    { workers, pids, store: storeUrl, admin: front.url },
    `drouter started with ${workers} workers (pids ${pids.join(', ')}) sharing SIP ${sip}; store ${storeUrl}${schemaNote}; admin ${front.url}`,
  );
}

/** What the workers run with: the admin API each on a port of its own on loopback, behind the front. */
function workerConfig(config: Readonly<Config>): Config {
  return { ...config, admin: { ...config.admin, address: '127.0.0.1', port: 0 } };
}
