import { once } from 'node:events';
import WebSocket from 'ws';

/**
 * A browser phone's side of SIP over WebSocket (RFC 7118), as SIP.js and
 * JsSIP speak it: one connection from its own 127.0.0.N asking for the
 * `sip` subprotocol, one SIP message per WebSocket message.
 */
export class WsPeer {
  private readonly received: string[] = [];

  private constructor(
    private readonly socket: WebSocket,
    readonly localPort: number,
  ) {
    socket.on('message', (data: Buffer) => this.received.push(data.toString('latin1')));
  }

  /** Opens `url` (ws:// or wss://) from `localAddress`; `ca` trusts a test CA for wss; `protocol` '' asks for no subprotocol, `origin` sends that Origin. */
  static async connect(
    localAddress: string,
    url: string,
    options: { ca?: string; protocol?: string; origin?: string } = {},
  ): Promise<WsPeer> {
    const protocols = options.protocol === '' ? [] : [options.protocol ?? 'sip'];
    const socket = new WebSocket(url, protocols, {
      localAddress,
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.origin ? { origin: options.origin } : {}),
    });
    await Promise.race([
      once(socket, 'open'),
      once(socket, 'unexpected-response').then(([, response]) =>
        Promise.reject(
          new Error(`the WebSocket handshake got HTTP ${(response as { statusCode?: number }).statusCode}`),
        ),
      ),
      once(socket, 'error').then(([error]) => Promise.reject(error as Error)),
    ]);
    const raw = (socket as unknown as { _socket?: { localPort?: number } })._socket;
    return new WsPeer(socket, raw?.localPort ?? 0);
  }

  send(text: string): void {
    this.socket.send(Buffer.from(text, 'latin1'), { binary: false });
  }

  /** The first message received whose text matches, within `timeoutMs`; undefined if none came. */
  async receive(pattern: RegExp, timeoutMs = 3000): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const index = this.received.findIndex((message) => pattern.test(message));
      if (index >= 0) return this.received.splice(index, 1)[0];
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return undefined;
  }

  /** The close code once the server closed the connection (1002: no sip subprotocol), within `timeoutMs`. */
  async closedWith(timeoutMs = 2000): Promise<number | undefined> {
    if (this.socket.readyState === WebSocket.CLOSED) return undefined;
    const closed = once(this.socket, 'close').then(([code]) => code as number);
    return Promise.race([closed, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs))]);
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    const closed = once(this.socket, 'close');
    this.socket.close();
    await closed;
  }
}
