import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { splitMessages } from './stream-framing.js';

/**
 * A SIP peer over one TCP connection from its own 127.0.0.N: sends text, finds messages in what comes back.
 * test/support/tls-peer.ts makes it over TLS.
 */
export class TcpPeer {
  private buffer = '';
  /** What went wrong on the connection (a reset, a TLS alert): recorded, as an unhandled one would end the test run. */
  readonly errors: Error[] = [];

  protected constructor(protected readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => (this.buffer += chunk.toString('latin1')));
    socket.on('error', (error) => this.errors.push(error));
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
    return splitMessages(this.buffer).messages;
  }

  /** Resolves when the connection closes, however (a FIN, a reset, a TLS alert: see `errors`). */
  closed(): Promise<void> {
    if (this.socket.destroyed || this.socket.readableEnded) return Promise.resolve();
    // Not events.once: it rejects on an 'error', and a connection closed by an error is closed all the same.
    return new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  close(): void {
    this.socket.destroy();
  }
}
