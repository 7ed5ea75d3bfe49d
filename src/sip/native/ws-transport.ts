import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Remote as SipRemote } from 'sip';
import { type WebSocket, WebSocketServer } from 'ws';
import { streamConnection, type TextConnection } from './text-connection.js';
import { ConnectionCounts } from './connection-counts.js';
import { inbound, type Received } from './inbound.js';
import { admitConnection, type TcpLimits, type TcpObserver } from './tcp-transport.js';
import type { TlsCredentials } from './tls-credentials.js';

export interface WsTransportOptions {
  local: { address: string; port: number };
  /** WSS: the TLS credentials of sip.tls; absent: plain WS. */
  secure?: TlsCredentials;
  /** sip.tcp's caps and timeouts hold for WebSocket connections too. */
  limits: TcpLimits;
  /** sip.websocket.allowedOrigins: the web pages whose scripts may connect; empty: any (and clients that send no Origin). */
  allowedOrigins: readonly string[];
  onMessage: (received: Received, remote: SipRemote) => void;
  observer?: TcpObserver;
  /** A phone's connection has closed: its bindings end with it. */
  onFlowClosed?: (remote: { address: string; port: number }) => void;
}

/** A frame of CRLFs only: a keep-alive, not a message. */
const KEEP_ALIVE = /^(?:\r\n)+$/;
const PONG = Buffer.from('\r\n', 'binary');

/** RFC 7118 §4.1: the WebSocket subprotocol of SIP. */
const SUBPROTOCOL = 'sip';

/**
 * SIP over WebSocket (RFC 7118), plain or over TLS: browser phones (SIP.js,
 * JsSIP). Each WebSocket message is one SIP message (§5), so there is no
 * framing to do; the handshake must ask for the `sip` subprotocol, and
 * come from an allowed web page when sip.websocket.allowedOrigins is set.
 * A browser cannot be connected to: a request for a browser phone goes down
 * the connection it registered over, and there is none once it closed.
 * Connections are capped and timed out as sip.tcp says, counted before the
 * handshake.
 */
export class WsTransport {
  private readonly server: Server;
  private readonly sockets: WebSocketServer;
  private readonly connections = new Map<string, WebSocket>();
  private readonly counts: ConnectionCounts;
  private readonly protocol: 'WS' | 'WSS';

  constructor(private readonly options: WsTransportOptions) {
    this.counts = new ConnectionCounts(options.limits);
    this.protocol = options.secure ? 'WSS' : 'WS';
    // A frame larger than a message may be is refused by ws itself (close 1009) before it is buffered whole.
    const maxPayload = options.limits.maxHeadBytes + options.limits.maxBodyBytes;
    this.sockets = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload,
      handleProtocols: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    const answerPlainHttp = (_request: IncomingMessage, response: import('node:http').ServerResponse) => {
      response
        .writeHead(426, { Upgrade: 'websocket', 'Content-Type': 'text/plain' })
        .end('SIP over WebSocket only (RFC 7118): ask for the sip subprotocol\n');
    };
    this.server = options.secure
      ? createHttpsServer(
          { ...options.secure.serverOptions(), handshakeTimeout: options.limits.messageTimeoutMs },
          answerPlainHttp,
        )
      : createHttpServer(answerPlainHttp);
    this.server.headersTimeout = options.limits.messageTimeoutMs;
    this.server.requestTimeout = options.limits.messageTimeoutMs;
    // Counted as soon as accepted, before any handshake; over a cap, closed at once.
    this.server.on(
      'connection',
      (socket: Duplex & { remoteAddress?: string }) => void admitConnection(this.counts, options.observer, socket),
    );
    this.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(request, socket, head),
    );
    this.server.on('error', () => undefined);
    this.server.on('tlsClientError', () => undefined);
    this.server.listen(options.local.port, options.local.address);
  }

  /** WSS: the next handshakes get the credentials read again (SIGHUP). */
  reloaded(): void {
    if (this.options.secure && 'setSecureContext' in this.server)
      (this.server as import('node:https').Server).setSecureContext(this.options.secure.serverOptions());
  }

  /** The connection a browser phone holds; one that has none cannot be reached (a send fails). */
  open(target: { address: string; port: number }): TextConnection {
    const socket = this.connections.get(`${target.address}:${target.port}`);
    const protocol = this.protocol;
    const sendText = (text: string) => {
      if (!socket || socket.readyState !== socket.OPEN)
        throw new Error(
          `no ${protocol} connection from ${target.address}:${target.port} (a WebSocket phone is reached only over the connection it registered on)`,
        );
      // A text frame (RFC 7118 §5.1): our text holds one character per octet of the UTF-8 message.
      socket.send(Buffer.from(text, 'binary'), { binary: false });
    };
    return streamConnection(protocol, sendText);
  }

  close(): void {
    for (const socket of this.connections.values()) socket.terminate();
    this.connections.clear();
    this.sockets.close();
    this.server.close();
    this.server.closeAllConnections();
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const origin = request.headers.origin;
    const { allowedOrigins } = this.options;
    if (allowedOrigins.length > 0 && (origin === undefined || !allowedOrigins.includes(origin))) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    this.sockets.handleUpgrade(request, socket, head, (websocket) => {
      // handleProtocols refused no subprotocol: a client that did not ask for sip is not one of ours.
      if (websocket.protocol !== SUBPROTOCOL) {
        websocket.close(1002, 'the sip subprotocol is required (RFC 7118)');
        return;
      }
      this.adopt(
        websocket,
        { address: request.socket.remoteAddress ?? '', port: request.socket.remotePort ?? 0 },
        request.socket,
      );
    });
  }

  private adopt(
    websocket: WebSocket,
    remote: { address: string; port: number },
    raw: Duplex & { setTimeout?(ms: number, onTimeout: () => void): void },
  ): void {
    const key = `${remote.address}:${remote.port}`;
    const { limits, observer, onMessage } = this.options;
    this.connections.set(key, websocket);
    websocket.on('close', () => {
      if (this.connections.get(key) === websocket) this.connections.delete(key);
      this.options.onFlowClosed?.(remote);
    });
    websocket.on('error', () => websocket.terminate());
    raw.setTimeout?.(limits.idleTimeoutMs, () => {
      observer?.closed('idle');
      websocket.terminate();
    });
    websocket.on('close', (code: number) => {
      if (code === 1009) observer?.closed('oversized');
    });
    // Text or binary frames alike (RFC 7118 §5.1); a whole message per frame, read as a datagram is (Content-Length may be left out).
    websocket.on('message', (data: Buffer) => {
      // A keep-alive ping (SIP.js and JsSIP send CRLFCRLF, RFC 5626 §3.5.1) wants a CRLF back; a lone CRLF is a pong.
      if (KEEP_ALIVE.test(data.toString('binary'))) {
        if (data.length >= 4) websocket.send(PONG, { binary: false });
        return;
      }
      const result = inbound(data.toString('binary'), 'udp', remote);
      if (result.kind === 'reply') websocket.send(Buffer.from(result.text, 'binary'), { binary: false });
      else if (result.kind !== 'drop')
        onMessage(result, {
          protocol: this.protocol,
          address: remote.address,
          port: remote.port,
          local: this.options.local,
        });
    });
  }
}
