import type { Transport } from '../engine.js';

/** An address and port a message came from or goes to. */
export interface Remote {
  address: string;
  port: number;
}

/** What the engine lends the steering: taking in a message another worker handed over, and writing to a TCP connection it holds. */
export interface SteeredTransports {
  /** Handles `text` as if it had been read from `transport` from `source` (it is ours: no steering again). */
  receive(text: string, transport: Transport, source: Remote): void;
  /** Writes `text` to the accepted TCP connection from `remote`; false when this worker holds none. */
  writeToFlow(remote: Remote, text: string): boolean;
}

/**
 * How a worker of `drouter start --workers N` shares the SIP address with
 * the others (implemented in src/cluster/; absent with one process, which
 * then pays nothing). The kernel hands each datagram on the shared socket
 * to whichever worker reads first, and the cluster's primary hands each
 * TCP connection to one worker; the steering moves a message to the worker
 * that holds its transaction, and a send to the worker that holds its
 * TCP connection.
 */
export interface WorkerSteering {
  /** The start of this worker's Via branches, so responses find their way back to it. */
  readonly branchPrefix: string;
  attach(transports: SteeredTransports): void;
  /**
   * A message just read: true when it was handed to the worker that owns
   * it (nothing more to do here), false when it is this worker's. Over
   * TCP only responses move; a request stays with its connection.
   */
  steer(text: string, transport: Transport, source: Remote): boolean;
  /** Whether another worker holds an accepted TCP connection from `remote`. */
  flowElsewhere(remote: Remote): boolean;
  /** Hands `text` to the worker holding the TCP connection from `remote`. */
  sendOverFlow(remote: Remote, text: string): void;
  /** A TCP connection was accepted from `remote` (the other workers may send over it through us), or closed. */
  flowOpened(remote: Remote): void;
  flowClosed(remote: Remote): void;
}
