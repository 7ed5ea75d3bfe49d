import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/** A SIP peer over one TCP connection from its own 127.0.0.N: sends text, finds messages in what comes back. */
export class TcpPeer {
  private buffer = '';

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => (this.buffer += chunk.toString('latin1')));
  }

  static async connect(localAddress: string, to: { address: string; port: number }): Promise<TcpPeer> {
    const socket = connect({ host: to.address, port: to.port, localAddress });
    await once(socket, 'connect');
    return new TcpPeer(socket);
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  send(text: string): void {
    this.socket.write(Buffer.from(text, 'latin1'));
  }

  /** The first complete message (head and body) whose text matches, within `timeoutMs`. */
  async receive(pattern: RegExp, timeoutMs = 3000): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const message of this.messages()) if (pattern.test(message)) return message;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return undefined;
  }

  private messages(): string[] {
    const messages: string[] = [];
    let rest = this.buffer;
    for (;;) {
      const end = rest.indexOf('\r\n\r\n');
      if (end < 0) break;
      const head = rest.slice(0, end);
      const length = Number(/^content-length:\s*(\d+)/im.exec(head)?.[1] ?? 0);
      if (rest.length < end + 4 + length) break;
      messages.push(rest.slice(0, end + 4 + length));
      rest = rest.slice(end + 4 + length);
    }
    return messages;
  }

  /** Resolves when the other side closes the connection. */
  closed(): Promise<void> {
    if (this.socket.destroyed || this.socket.readableEnded) return Promise.resolve();
    return once(this.socket, 'close').then(() => undefined);
  }

  close(): void {
    this.socket.destroy();
  }
}
