import { hostText } from '../../src/sip/core/endpoint.js';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { isIPv6 } from 'node:net';
import { escapeRegExp } from './regexp.js';

/**
 * A bare UDP SIP peer on its own 127.0.0.N: sends message text as given
 * (torture messages must reach the server byte for byte) and collects what
 * comes back.
 */
export class UdpPeer {
  private readonly received: string[] = [];
  private waiters: (() => void)[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on('message', (data) => {
      this.received.push(data.toString('latin1'));
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async bind(address: string): Promise<UdpPeer> {
    const socket = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
    socket.bind(0, address);
    await once(socket, 'listening');
    return new UdpPeer(socket);
  }

  get address(): { address: string; port: number } {
    const { address, port } = this.socket.address();
    return { address, port };
  }

  send(text: string | Buffer, to: { address: string; port: number }): void {
    this.socket.send(typeof text === 'string' ? Buffer.from(text, 'latin1') : text, to.port, to.address);
  }

  /** The first received message matching `pattern`, within `timeoutMs`; undefined if none came. */
  async receive(pattern: RegExp, timeoutMs = 2000): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.received.findIndex((message) => pattern.test(message));
      if (index >= 0) return this.received.splice(index, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.close();
  }
}

/** A request's text with CRLF line ends, a fresh branch and the sender's Via. */
export function sipRequest(lines: readonly string[], body = ''): string {
  return `${lines.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

let optionsSent = 0;

/** Sends an OPTIONS for `requestUri` from `peer` to `to`; the status of its answer, or undefined when none came within `timeoutMs`. */
export async function optionsStatus(
  peer: UdpPeer,
  to: { address: string; port: number },
  requestUri: string,
  timeoutMs = 1000,
): Promise<number | undefined> {
  optionsSent++;
  const { port } = peer.address;
  const address = hostText(peer.address.address);
  const callId = `options-${optionsSent}-${Date.now()}@${address}`;
  peer.send(
    sipRequest([
      `OPTIONS ${requestUri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${address}:${port};branch=z9hG4bK-options-${optionsSent}-${Date.now()}`,
      'Max-Forwards: 70',
      `From: <sip:probe@${address}>;tag=o${optionsSent}`,
      `To: <${requestUri}>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 OPTIONS',
    ]),
    to,
  );
  const status = /^SIP\/2\.0 (\d{3})/.exec(
    (await peer.receive(new RegExp(`Call-ID: ${escapeRegExp(callId)}`), timeoutMs)) ?? '',
  )?.[1];
  return status === undefined ? undefined : Number(status);
}
