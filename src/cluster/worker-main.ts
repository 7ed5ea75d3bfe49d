import cluster from 'node:cluster';
import { serveUntilSignalled } from '../lifecycle/signals.js';
import { DrouterError } from '../errors.js';
import { createLogger } from '../log.js';
import { startServer } from '../main.js';
import { Metrics } from '../metrics/metrics.js';
import { ClusterSteering } from './cluster-steering.js';
import { HandoffLink } from './handoff-link.js';
import type { ToPrimary, ToWorker } from './ipc-messages.js';

/**
 * The entry of each worker process of `drouter start --workers N`, forked
 * by the primary (primary.ts): it waits for its number and configuration,
 * opens its hand-off socket, runs the whole server (main.ts) on the shared
 * SIP address with the cluster's steering, and tells the primary when it
 * is ready. A worker that cannot start says why and exits.
 */

/** Inside the primary's deadline: a worker that hangs is killed by it. */
const WORKER_SHUTDOWN_DEADLINE_MS = 1200;

/** Sends to the primary; `then` runs once the message is out (or could not go: the primary is gone). */
function tell(message: ToPrimary, then: () => void = () => undefined): void {
  if (process.send && process.connected) process.send(message, undefined, undefined, () => then());
  else then();
}

/** This worker once it runs: set by `start`, read by the primary's later messages. */
interface Running {
  link: HandoffLink;
  steering: ClusterSteering;
  metrics: Metrics;
}

let running: Running | undefined;
/** Set once the server runs: how to stop it. Until then a lost primary ends the process at once. */
let shutdown: ((signal: NodeJS.Signals | 'disconnect') => void) | undefined;
/** The latest table of hand-off ports, which may come before our own link is open. */
let handoffPorts: number[] = [];

async function runWorker(start: Extract<ToWorker, { kind: 'start' }>): Promise<void> {
  const { index, count, config } = start;
  const log = createLogger(config.log.level).child({ worker: index });
  const metrics = new Metrics();
  const dropped = (reason: string) => log.debug({ reason }, `hand-off: ${reason}`);
  // steering is set before any frame can come: nothing yields from the bind to it, and the port is told only after.
  const link = await HandoffLink.open((frame) => steering.take(frame), dropped);
  link.setPorts(handoffPorts);
  const steering = new ClusterSteering({
    index,
    count,
    send: (to, frame) => link.send(to, frame),
    announceFlow: (remote, open) => tell({ kind: 'flow', key: `${remote.address}:${remote.port}`, open }),
    observer: metrics,
    onDropped: dropped,
  });
  running = { link, steering, metrics };
  tell({ kind: 'handoff-port', port: link.port });
  const server = await startServer(config, log, { name: `drouter worker ${index}`, steering, metrics });
  shutdown = serveUntilSignalled(
    {
      reload: () => server.reload(),
      reopenLogs: () => server.reopenLogs(),
      reloadCertificates: () => server.reloadCertificates(),
      stop: async () => {
        await server.stop();
        link.close();
      },
    },
    log,
    WORKER_SHUTDOWN_DEADLINE_MS,
  );
  process.on('SIGTERM', shutdown);
  // The primary went while we started: stop now.
  if (!process.connected) shutdown('disconnect');
  tell({ kind: 'ready', adminUrl: server.adminUrl });
}

function onPrimaryMessage(message: ToWorker): void {
  switch (message.kind) {
    case 'start':
      runWorker(message).catch((error: unknown) => {
        const code = error instanceof DrouterError ? error.code : undefined;
        const text = error instanceof Error ? (code ? error.message : (error.stack ?? error.message)) : String(error);
        tell({ kind: 'failed', code, message: text }, () => process.exit(1));
      });
      return;
    case 'handoff-ports':
      handoffPorts = message.ports;
      running?.link.setPorts(message.ports);
      return;
    case 'flow':
      running?.steering.setFlow(message.key, message.holder ?? undefined);
      return;
    case 'metrics-request': {
      const { id } = message;
      if (!running) {
        tell({ kind: 'metrics', id, snapshot: undefined, error: 'not started yet' });
        return;
      }
      running.metrics.snapshot().then(
        (snapshot) => tell({ kind: 'metrics', id, snapshot, error: undefined }),
        (error: unknown) => tell({ kind: 'metrics', id, snapshot: undefined, error: String(error) }),
      );
    }
  }
}

if (!cluster.isWorker) {
  console.error('drouter: worker-main.js runs only as a worker of `drouter start --workers N`');
  process.exit(2);
}
process.on('message', onPrimaryMessage);
// Ctrl-C reaches every process of the group: the primary stops the workers (SIGTERM), in order.
process.on('SIGINT', () => undefined);
// The primary is gone (killed): no worker outlives it, started or not.
process.on('disconnect', () => (shutdown ? shutdown('disconnect') : process.exit(1)));
// node:cluster's own messages to a primary that is gone fail with EPIPE: the disconnect above ends the worker.
cluster.worker?.on('error', () => undefined);
// Only now may the primary write to us: a message that came while the modules loaded, before the listener, would be lost.
tell({ kind: 'waiting' });
