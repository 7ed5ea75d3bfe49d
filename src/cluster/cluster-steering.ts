import type { HandoffKind } from '../metrics/metric-labels.js';
import type { Transport } from '../sip/engine.js';
import type { Remote, SteeredTransports, WorkerSteering } from '../sip/native/worker-steering.js';
import type { HandoffFrame } from './core/handoff-frame.js';
import { ownerOf, workerBranchPrefix } from './core/message-owner.js';

export interface SteeringDeps {
  /** This worker's number, 1 to `count`. */
  index: number;
  count: number;
  /** Sends a frame to a worker; false when that worker is not up. */
  send(index: number, frame: HandoffFrame): boolean;
  /** Tells the primary about a TCP connection this worker accepted or lost, for the other workers' directories. */
  announceFlow(remote: Remote, open: boolean): void;
  observer: { handedOff(kind: HandoffKind): void };
  /** A message that could not be delivered, and why (a debug log line). */
  onDropped(reason: string): void;
}

const flowKey = (remote: Remote): string => `${remote.address}:${remote.port}`;

/**
 * The steering of one worker (see WorkerSteering): owner checks on the
 * raw text (message-owner.ts), hand-offs over the loopback link, and the
 * directory of which worker holds which accepted TCP connection, kept up
 * to date by the primary.
 */
export class ClusterSteering implements WorkerSteering {
  readonly branchPrefix: string;
  private transports: SteeredTransports | undefined;
  /** Accepted TCP connections by `address:port`: the worker holding each. */
  private readonly flows = new Map<string, number>();

  constructor(private readonly deps: SteeringDeps) {
    this.branchPrefix = workerBranchPrefix(deps.index);
  }

  attach(transports: SteeredTransports): void {
    this.transports = transports;
  }

  steer(text: string, transport: Transport, source: Remote): boolean {
    // A request over TCP stays with its connection: TCP does not retransmit, and the answer must go back on it.
    if (transport === 'tcp' && !text.startsWith('SIP/')) return false;
    const owned = ownerOf(text, this.deps.count);
    if (!owned || owned.owner === this.deps.index) return false;
    // A worker that is down (restarting) owns nothing: its messages are handled where they land meanwhile.
    if (!this.deps.send(owned.owner, { kind: 'receive', transport, remote: source, text })) return false;
    this.deps.observer.handedOff(owned.kind);
    return true;
  }

  flowElsewhere(remote: Remote): boolean {
    const holder = this.flows.get(flowKey(remote));
    return holder !== undefined && holder !== this.deps.index;
  }

  sendOverFlow(remote: Remote, text: string): void {
    const holder = this.flows.get(flowKey(remote));
    if (holder !== undefined && this.deps.send(holder, { kind: 'send', transport: 'tcp', remote, text }))
      this.deps.observer.handedOff('tcp-send');
    else this.deps.onDropped(`no worker holds the TCP connection from ${flowKey(remote)} any more: message not sent`);
  }

  flowOpened(remote: Remote): void {
    this.deps.announceFlow(remote, true);
  }

  flowClosed(remote: Remote): void {
    this.deps.announceFlow(remote, false);
  }

  /** The primary's word: `holder` holds the accepted connection `key` (`address:port`), or nobody does (undefined). */
  setFlow(key: string, holder: number | undefined): void {
    if (holder === undefined) this.flows.delete(key);
    else this.flows.set(key, holder);
  }

  /** A frame another worker sent us. */
  take(frame: HandoffFrame): void {
    const transports = this.transports;
    if (!transports) return;
    if (frame.kind === 'receive') transports.receive(frame.text, frame.transport, frame.remote);
    else if (!transports.writeToFlow(frame.remote, frame.text))
      this.deps.onDropped(
        `the TCP connection from ${flowKey(frame.remote)} closed before another worker's message went out on it`,
      );
  }
}
