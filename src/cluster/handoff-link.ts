import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { decodeFrame, encodeFrame, type HandoffFrame } from './core/handoff-frame.js';

const LOOPBACK = '127.0.0.1';
/** As the SIP socket's: a burst handed over during a GC pause must not overflow it. */
const SOCKET_BUFFER_BYTES = 8 * 1024 * 1024;

/**
 * A worker's own UDP socket on 127.0.0.1 (a port of its own, never shared
 * through the cluster), over which the workers hand each other messages.
 * The primary gathers every worker's port and sends each the table. Only
 * datagrams from a port in that table are taken: another local process
 * cannot slip a message in under a phone's address.
 */
export class HandoffLink {
  private ports: readonly number[] = [];
  private readonly accepted = new Set<number>();

  private constructor(
    private readonly socket: Socket,
    private readonly onFrame: (frame: HandoffFrame) => void,
    private readonly onDropped: (reason: string) => void,
  ) {
    socket.on('message', (data, rinfo) => {
      if (rinfo.address !== LOOPBACK || !this.accepted.has(rinfo.port)) return;
      const frame = decodeFrame(data);
      if (frame) onFrame(frame);
      else this.onDropped(`a datagram from worker port ${rinfo.port} is not a hand-off frame`);
    });
  }

  static async open(onFrame: (frame: HandoffFrame) => void, onDropped: (reason: string) => void): Promise<HandoffLink> {
    const socket = createSocket({
      type: 'udp4',
      recvBufferSize: SOCKET_BUFFER_BYTES,
      sendBufferSize: SOCKET_BUFFER_BYTES,
    });
    // exclusive: in a cluster worker a shared bind would go through the primary and give every worker the same socket.
    socket.bind({ address: LOOPBACK, port: 0, exclusive: true });
    await Promise.race([
      once(socket, 'listening'),
      once(socket, 'error').then(([error]) => Promise.reject(error as Error)),
    ]);
    const link = new HandoffLink(socket, onFrame, onDropped);
    socket.on('error', (error) => onDropped(`hand-off socket: ${error.message}`));
    return link;
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** The hand-off port of each worker, by number (index 0 is worker 1); 0 for a worker that is not up. */
  setPorts(ports: readonly number[]): void {
    this.ports = ports;
    this.accepted.clear();
    for (const port of ports) if (port > 0) this.accepted.add(port);
  }

  /** Sends the frame to worker `index`; false when that worker is not up (the caller handles the message itself). */
  send(index: number, frame: HandoffFrame): boolean {
    const port = this.ports[index - 1] ?? 0;
    if (port === 0) return false;
    this.socket.send(encodeFrame(frame), port, LOOPBACK, this.sent);
    return true;
  }

  // One callback for every send (Node reports a failed send only there), no closure per datagram; the error names the port.
  private readonly sent = (error: Error | null): void => {
    if (error) this.onDropped(`hand-off failed: ${error.message}`);
  };

  close(): void {
    this.socket.close();
  }
}
