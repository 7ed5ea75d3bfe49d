import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as connectTls, createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { Remote as SipRemote } from 'sip';
import type { TcpCap, TcpCloseReason } from '../../metrics/metric-labels.js';
import { randomHex } from '../../random-pool.js';
import { splitHead } from '../core/message-head.js';
import { rawResponse } from '../core/raw-request-check.js';
import { streamConnection, type TextConnection } from './text-connection.js';
import { ConnectionCounts } from './connection-counts.js';
import { inbound, type Received } from './inbound.js';
import { type FramingFault, frameMessages } from './tcp-framing.js';
import type { TlsCredentials } from './tls-credentials.js';
import type { Remote, WorkerSteering } from './worker-steering.js';

/** sip.tcp: what every connection is held to (docs/engines.md "TCP limits"). */
export interface TcpLimits {
  /** Accepted connections at once; our own connections out are not counted. */
  maxConnections: number;
  maxConnectionsPerSource: number;
  /** Nothing read or written for this long closes a connection (ours to gateways too). */
  idleTimeoutMs: number;
  /** A message must be whole (head and body) this long after its first byte. */
  messageTimeoutMs: number;
  maxHeadBytes: number;
  maxBodyBytes: number;
}

/** What the transport reports to the metrics. */
export interface TcpObserver {
  refused(cap: TcpCap): void;
  closed(reason: TcpCloseReason): void;
}

/**
 * What the stream is carried over: plain TCP, or TLS (RFC 3261 §26.3.1)
 * with its credentials. `admit` sees each connection as it is accepted,
 * before a TLS handshake costs anything, and turns it away over a cap;
 * `adopt` gets it once it carries SIP.
 */
export interface StreamKind {
  protocol: 'TCP' | 'TLS';
  listen(admit: (socket: Socket) => boolean, adopt: (socket: Socket) => void, handshakeTimeoutMs: number): Server;
  connect(target: { address: string; port: number }, localAddress: string): Socket;
  /** TLS: the listener takes the credentials read again for its next handshakes. */
  reloaded?(server: Server): void;
}

/**
 * A connection a peer opened (TCP, TLS, WebSocket): turned away at once over
 * a cap, else counted until it closes (the caps count per process: per
 * worker with --workers N).
 */
export function admitConnection(
  counts: ConnectionCounts,
  observer: TcpObserver | undefined,
  socket: Duplex & { remoteAddress?: string | undefined },
): boolean {
  const source = socket.remoteAddress ?? '';
  const cap = counts.admit(source);
  if (cap) {
    observer?.refused(cap);
    socket.destroy();
    return false;
  }
  socket.once('close', () => counts.release(source));
  return true;
}

export const PLAIN_TCP: StreamKind = {
  protocol: 'TCP',
  listen: (admit, adopt) => createServer((socket) => (admit(socket) ? adopt(socket) : undefined)),
  connect: (target, localAddress) => connect({ host: target.address, port: target.port, localAddress }),
};

/** TLS over the same stream handling; the credentials are read at each handshake, so a reload applies to the next ones. */
export function tlsStream(credentials: TlsCredentials): StreamKind {
  return {
    protocol: 'TLS',
    listen(admit, adopt, handshakeTimeoutMs) {
      const server = createTlsServer({ ...credentials.serverOptions(), handshakeTimeout: handshakeTimeoutMs }, adopt);
      // Before the TLS layer's own listener: a connection over a cap is closed before any handshake.
      server.prependListener('connection', (socket: Socket) => {
        if (!admit(socket)) socket.destroy();
      });
      // A failed handshake (no client certificate under `require`, garbage) closes that connection only.
      server.on('tlsClientError', () => undefined);
      return server;
    },
    // The TCP connection from our own address first; the certificate is checked against the target's address or name.
    connect: (target, localAddress) =>
      connectTls({
        socket: PLAIN_TCP.connect(target, localAddress),
        host: target.address,
        ...credentials.clientOptions(target.address),
      }),
    reloaded: (server) => (server as TlsServer).setSecureContext(credentials.serverOptions()),
  };
}

export interface TcpTransportOptions {
  local: { address: string; port: number };
  /** Plain TCP unless given. */
  stream?: StreamKind;
  limits: TcpLimits;
  onMessage: (received: Received, remote: SipRemote) => void;
  /** With several workers: responses move to the worker that owns them, sends to the worker holding the connection. */
  steering?: WorkerSteering;
  observer?: TcpObserver;
  /** A connection a peer opened has closed. */
  onFlowClosed?: (remote: Remote) => void;
}

/** RFC 5626 §3.5.1: the answer to a CRLFCRLF ping. */
const PONG = Buffer.from('\r\n', 'binary');

/** RFC 3261 §21.4.11. */
const TOO_LARGE = { status: 413, reason: 'Request Entity Too Large' };

/**
 * SIP over TCP (RFC 3261 §18.3), or TLS: messages framed by Content-Length
 * (tcp-framing.ts), one connection per peer address reused both ways,
 * accepted connections capped in total and per source, idle connections
 * and slow messages closed, every connection closed on close() (the `sip`
 * package's transport left them open for 120 s).
 */
export class TcpTransport {
  private readonly server: Server;
  private readonly connections = new Map<string, Socket>();
  private readonly counts: ConnectionCounts;
  private readonly stream: StreamKind;

  constructor(private readonly options: TcpTransportOptions) {
    this.counts = new ConnectionCounts(options.limits);
    this.stream = options.stream ?? PLAIN_TCP;
    // In a cluster worker the primary listens and hands each accepted connection to one worker.
    this.server = this.stream.listen(
      (socket) => admitConnection(this.counts, options.observer, socket),
      (socket) => this.adopt(socket, undefined, true),
      options.limits.messageTimeoutMs,
    );
    this.server.on('error', () => undefined);
    this.server.listen(options.local.port, options.local.address);
  }

  /** TLS: the next handshakes get the credentials read again (SIGHUP). */
  reloaded(): void {
    this.stream.reloaded?.(this.server);
  }

  /** The connection to `target`, made when there is none; `onError` hears if a connection made here fails (refused, a failed handshake). */
  open(target: { address: string; port: number }, onError?: (error: Error) => void): TextConnection {
    const key = `${target.address}:${target.port}`;
    let socket = this.connections.get(key);
    if (!socket || socket.destroyed) {
      // A phone's connection, accepted by another worker: its port takes no new connection, so the holder sends.
      const steering = this.options.steering;
      if (steering?.flowElsewhere(target))
        return streamConnection(this.stream.protocol, (text) => steering.sendOverFlow(target, text));
      socket = this.stream.connect(target, this.options.local.address);
      if (onError) socket.once('error', onError);
      this.adopt(socket, key);
    }
    const chosen = socket;
    return streamConnection(this.stream.protocol, (text) => void chosen.write(Buffer.from(text, 'binary')));
  }

  /** Writes to the connection from `remote` when this worker holds it (another worker's send, handed over). */
  writeToFlow(remote: Remote, text: string): boolean {
    const socket = this.connections.get(`${remote.address}:${remote.port}`);
    if (!socket || socket.destroyed) return false;
    socket.write(Buffer.from(text, 'binary'));
    return true;
  }

  /**
   * A message that is ours: read from `connection`, or read by another
   * worker from its connection and handed over (a response to our request;
   * a malformed request's 400 goes back on the connection it came from).
   */
  deliver(text: string, source: Remote, connection?: Socket): void {
    const result = inbound(text, 'tcp', source);
    if (result.kind === 'reply') connection?.write(Buffer.from(result.text, 'binary'));
    else if (result.kind !== 'drop')
      this.options.onMessage(result, {
        protocol: this.stream.protocol,
        address: source.address,
        port: source.port,
        local: this.options.local,
      });
  }

  close(): void {
    this.server.close();
    for (const socket of this.connections.values()) socket.destroy();
    this.connections.clear();
  }

  private adopt(socket: Socket, knownKey?: string, accepted = false): void {
    const remote = remoteOf(socket);
    const key = knownKey ?? `${remote.address}:${remote.port}`;
    this.connections.set(key, socket);
    if (accepted) this.options.steering?.flowOpened(remote);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (this.connections.get(key) === socket) this.connections.delete(key);
      if (accepted) this.options.steering?.flowClosed(remote);
      if (accepted) this.options.onFlowClosed?.(remote);
    });
    // Reads and writes (CRLF keep-alives too) are activity.
    socket.setTimeout(this.options.limits.idleTimeoutMs, () => this.closeFor(socket, 'idle'));
    this.read(socket);
  }

  /** Hands on every whole message read; holds each to the message deadline; refuses what cannot be framed. */
  private read(socket: Socket): void {
    const { limits, steering } = this.options;
    let buffer = '';
    let deadline: NodeJS.Timeout | undefined;
    const stopDeadline = () => {
      clearTimeout(deadline);
      deadline = undefined;
    };
    const startDeadline = (onExpiry: () => void) => {
      stopDeadline();
      deadline = setTimeout(onExpiry, limits.messageTimeoutMs).unref();
    };
    let closing = false;
    socket.on('close', stopDeadline);
    socket.on('data', (chunk: Buffer) => {
      // After a refusal's answer the rest of the stream is read and dropped (see refuse).
      if (closing) return;
      const framed = frameMessages(buffer + chunk.toString('binary'), limits);
      buffer = framed.rest;
      if (framed.pinged) socket.write(PONG);
      const source = remoteOf(socket);
      for (const text of framed.messages) if (!steering?.steer(text, 'tcp', source)) this.deliver(text, source, socket);
      if (framed.fault) {
        closing = true;
        if (this.refuse(socket, framed.fault, source)) startDeadline(() => socket.destroy());
        else stopDeadline();
      } else if (buffer === '') stopDeadline();
      // The deadline runs from a message's first byte: from now when the previous message ended in this chunk.
      else if (framed.messages.length > 0 || !deadline) startDeadline(() => this.closeFor(socket, 'message-timeout'));
    });
  }

  /**
   * A message the stream cannot carry: answered when it can be (413 for a
   * body over the cap, the 400 of a Content-Length that is no number), and
   * the connection closed. True when an answer went out: the connection
   * then closes by the peer or at the message deadline, as closing at once
   * with its unread bytes would reset it and could lose the answer.
   */
  private refuse(socket: Socket, fault: FramingFault, source: Remote): boolean {
    if (fault.kind !== 'bad-length') this.options.observer?.closed('oversized');
    const reply = replyTo(fault, source);
    if (reply === undefined) {
      socket.destroy();
      return false;
    }
    socket.end(Buffer.from(reply, 'binary'));
    return true;
  }

  private closeFor(socket: Socket, reason: TcpCloseReason): void {
    this.options.observer?.closed(reason);
    socket.destroy();
  }
}

/** The answer to a message that cannot be framed, written from its head as for any malformed request; undefined when there is none. */
function replyTo(fault: FramingFault, source: Remote): string | undefined {
  if (fault.kind === 'head-too-large') return undefined;
  if (fault.kind === 'body-too-large') return rawResponse(splitHead(fault.head), TOO_LARGE, randomHex(6));
  const result = inbound(fault.head, 'tcp', source);
  return result.kind === 'reply' ? result.text : undefined;
}

function remoteOf(socket: Socket): Remote {
  return { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
}
