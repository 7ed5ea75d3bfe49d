import type { Config } from '../config/schema.js';
import type { MetricsSnapshot } from '../metrics/cluster-metrics.js';

/**
 * The messages between the cluster's primary and its workers, over the IPC
 * channel node:cluster opens (JSON). Workers are numbered 1 to N.
 */

export type ToWorker =
  /** The first message: which worker this is, and the configuration every worker runs with. */
  | { kind: 'start'; index: number; count: number; config: Config }
  /** The hand-off port of every worker (index 0 is worker 1); 0 for a worker that is not up. */
  | { kind: 'handoff-ports'; ports: number[] }
  /** Who holds the accepted TCP connection `key` (`address:port`); null: nobody any more. */
  | { kind: 'flow'; key: string; holder: number | null }
  | { kind: 'metrics-request'; id: number };

export type ToPrimary =
  /** The worker listens: a message sent before would be lost while its modules load. */
  | { kind: 'waiting' }
  | { kind: 'handoff-port'; port: number }
  | { kind: 'ready'; adminUrl: string }
  /** The worker could not start: its error's code (a DROUTER_ERR_… code, if it had one) and message. */
  | { kind: 'failed'; code: string | undefined; message: string }
  | { kind: 'flow'; key: string; open: boolean }
  | { kind: 'metrics'; id: number; snapshot: MetricsSnapshot | undefined; error: string | undefined };
