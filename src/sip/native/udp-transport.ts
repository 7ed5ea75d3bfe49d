import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import sip, { type Connection, type Message, type Remote } from 'sip';
import { checkRawRequest, rawResponse } from '../raw-request-check.js';

/**
 * Our own UDP transport in place of the `sip` package's: it sees each
 * datagram's raw text before the package's lenient parser, so a request
 * that is malformed gets its 400 (RFC 4475) instead of being guessed at or
 * dropped without a word. Garbage and broken responses are dropped.
 */
const SOCKET_BUFFER_BYTES = 8 * 1024 * 1024;

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

  open(target: { address: string; port: number }): Connection {
    return {
      protocol: 'UDP',
      send: (message) => this.sendText(sip.stringify(message), target),
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
    const text = data.toString('binary');
    if (!text.startsWith('SIP/')) {
      const rejection = checkRawRequest(text, 'udp');
      if (rejection) {
        const response = rawResponse(text, rejection, randomBytes(6).toString('hex'));
        if (response) this.sendText(response, rinfo);
        return;
      }
    }
    const message = sip.parse(data);
    const via = message?.headers.via?.[0];
    if (!message || !via || !message.headers['call-id'] || !message.headers.cseq) return;
    if (message.method !== undefined) {
      // RFC 3261 §18.2.1 and RFC 3581: where the request really came from.
      via.params.received = rinfo.address;
      if (Object.hasOwn(via.params, 'rport')) via.params.rport = String(rinfo.port);
    }
    this.onMessage(message, { protocol: 'UDP', address: rinfo.address, port: rinfo.port, local: this.local });
  }
}
