import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';

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
    const socket = createSocket('udp4');
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
