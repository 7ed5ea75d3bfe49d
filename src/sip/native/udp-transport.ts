import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import sip, { type Message, type Remote } from 'sip';
import type { TextConnection } from './combined-transport.js';
import { inbound } from './inbound.js';

const SOCKET_BUFFER_BYTES = 8 * 1024 * 1024;

/** SIP over UDP: one socket, each datagram one message (RFC 3261 §18). */
export class UdpTransport {
  private readonly socket: Socket;

  constructor(
    private readonly local: { address: string; port: number },
    private readonly onMessage: (message: Message, remote: Remote) => void,
  ) {
    // A GC pause at a few hundred calls/s outlasts the default ~200 kB socket
    // buffer: ask for 8 MB (the kernel caps it at net.core.rmem_max).
    this.socket = createSocket(
      { type: isIPv6(local.address) ? 'udp6' : 'udp4', recvBufferSize: SOCKET_BUFFER_BYTES, sendBufferSize: SOCKET_BUFFER_BYTES },
      (data, rinfo) => this.receive(data, rinfo),
    );
    this.socket.on('error', () => undefined);
    this.socket.bind(local.port, local.address);
  }

  open(target: { address: string; port: number }): TextConnection {
    return {
      protocol: 'UDP',
      reliable: false,
      send: (message) => this.sendText(sip.stringify(message), target),
      sendText: (text) => this.sendText(text, target),
      release: () => undefined,
    };
  }

  close(): void {
    this.socket.close();
  }

  private sendText(text: string, to: { address: string; port: number }): void {
    this.socket.send(Buffer.from(text, 'binary'), to.port, to.address);
  }

  private receive(data: Buffer, rinfo: { address: string; port: number }): void {
    const result = inbound(data.toString('binary'), 'udp', rinfo);
    if (result.kind === 'reply') this.sendText(result.text, rinfo);
    else if (result.kind === 'message') this.onMessage(result.message, { protocol: 'UDP', address: rinfo.address, port: rinfo.port, local: this.local });
  }
}
