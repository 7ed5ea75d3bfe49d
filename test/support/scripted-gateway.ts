import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, isIPv6, type Server as TcpServer, type Socket as TcpSocket } from 'node:net';
import { createServer as createTlsServer, Server as TlsServer } from 'node:tls';
import sip from 'sip';
import { splitMessages } from './stream-framing.js';
import type { IssuedCertificate } from './test-certificates.js';

/** Where a request came from: an address, and for TCP and TLS the connection to answer on. */
interface Peer {
  address: string;
  port: number;
  connection?: TcpSocket;
}

/** How the gateway sends and stops, over UDP, TCP or TLS. */
interface Link {
  send(text: string, to: Peer): void;
  close(): void;
}

/** What the stand-in Asterisk does with an INVITE. */
export type GatewayScript = 'answer' | 'busy' | 'unavailable' | 'error' | 'silent' | 'ring' | 'ring-drop-first-cancel';

/**
 * A SIP peer (UDP, TCP or TLS) standing in for an Asterisk gateway on its own 127.0.0.N,
 * built on the `sip` package's parser: answers INVITE as scripted, BYE and
 * CANCEL with 200 (and 487 for the cancelled INVITE), OPTIONS as set in
 * `optionsReply`, and records every request it got.
 */
export class ScriptedGateway {
  readonly received: sip.Message[] = [];
  /** Over TLS: the handshakes that failed, as the server side saw them. */
  readonly handshakeErrors: Error[] = [];
  script: GatewayScript = 'answer';
  /** What it answers an OPTIONS (a probe) with: a status, or nothing at all. */
  optionsReply: number | 'silent' = 200;
  private readonly tag = `gw${Math.floor(Math.random() * 1e9)}`;
  private readonly pendingInvites = new Map<string, sip.Message>();

  private link: Link = { send: () => undefined, close: () => undefined };

  private constructor(
    readonly address: string,
    readonly port: number,
  ) {}

  static async start(address: string, port = 5060): Promise<ScriptedGateway> {
    const gateway = new ScriptedGateway(address, port);
    const socket = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
    socket.on('message', (data, remote) => gateway.onMessage(data, remote));
    socket.bind(port, address);
    await once(socket, 'listening');
    gateway.link = {
      send: (text, to) => socket.send(Buffer.from(text, 'latin1'), to.port, to.address),
      close: () => socket.close(),
    };
    return gateway;
  }

  /** The same gateway over TCP: answers on the connection each request came in on. */
  static startTcp(address: string, port = 5060): Promise<ScriptedGateway> {
    return ScriptedGateway.startStream(new ScriptedGateway(address, port), createServer());
  }

  /**
   * The same gateway over TLS with `certificate`: answers on the connection each request came in on, and
   * records each handshake that failed (a proxy that refused its certificate) in `handshakeErrors`.
   */
  static startTls(address: string, port: number, certificate: IssuedCertificate): Promise<ScriptedGateway> {
    const gateway = new ScriptedGateway(address, port);
    const server = createTlsServer({ cert: certificate.certificate, key: certificate.key });
    server.on('tlsClientError', (error) => gateway.handshakeErrors.push(error));
    return ScriptedGateway.startStream(gateway, server);
  }

  /** Serves SIP over a stream server, TCP or TLS: messages cut by Content-Length, answered on their connection. */
  private static async startStream(gateway: ScriptedGateway, server: TcpServer): Promise<ScriptedGateway> {
    const connections = new Set<TcpSocket>();
    // A TLS server hands over its connections once secured, a TCP one at once.
    server.on(server instanceof TlsServer ? 'secureConnection' : 'connection', (connection: TcpSocket) => {
      connections.add(connection);
      let buffer = '';
      connection.on('data', (chunk: Buffer) => {
        const { messages, rest } = splitMessages(buffer + chunk.toString('latin1'));
        buffer = rest;
        for (const text of messages)
          gateway.onMessage(Buffer.from(text, 'latin1'), {
            address: connection.remoteAddress ?? '',
            port: connection.remotePort ?? 0,
            connection,
          });
      });
      connection.on('error', () => undefined);
      connection.on('close', () => connections.delete(connection));
    });
    server.listen(gateway.port, gateway.address);
    await once(server, 'listening');
    gateway.link = {
      send: (text, to) => to.connection?.write(Buffer.from(text, 'latin1')),
      close: () => {
        for (const connection of connections) connection.destroy();
        server.close();
      },
    };
    return gateway;
  }

  requests(method: string): sip.Message[] {
    return this.received.filter((message) => message.method === method);
  }

  /** Sends a response to a request again, as a gateway retransmitting its final does. */
  resend(request: sip.Message, status: number, to: Peer): void {
    this.reply(request, status, to);
  }

  close(): void {
    this.link.close();
  }

  private reply(
    request: sip.Message,
    status: number,
    remote: Peer,
    extra: Record<string, unknown> = {},
    content = '',
  ): void {
    // RFC 3261 §12.1.1: a UAS copies Record-Route into responses that set up a dialog.
    const recordRoute =
      status > 100 && status < 300 && request.headers['record-route']
        ? { 'record-route': request.headers['record-route'] }
        : {};
    const response = sip.makeResponse(request, status, '', { headers: { ...recordRoute, ...extra }, content });
    const to = request.headers.to;
    if (status > 100 && to) response.headers.to = { ...to, params: { ...to.params, tag: this.tag } };
    this.link.send(sip.stringify(response), remote);
  }

  private onMessage(data: Buffer, remote: Peer): void {
    const message = sip.parse(data);
    if (!message || !message.method) return;
    this.received.push(message);
    const key = `${message.headers['call-id']}|${message.headers.via?.[0]?.params.branch}`;
    switch (message.method) {
      case 'INVITE':
        this.onInvite(message, remote, key);
        break;
      case 'CANCEL': {
        // As if the first CANCEL were lost on the way: only a retransmission gets through.
        if (this.script === 'ring-drop-first-cancel' && this.requests('CANCEL').length === 1) break;
        this.reply(message, 200, remote);
        const invite = this.pendingInvites.get(key);
        if (invite) this.reply(invite, 487, remote);
        break;
      }
      case 'ACK':
        break;
      case 'OPTIONS':
        if (this.optionsReply !== 'silent') this.reply(message, this.optionsReply, remote);
        break;
      default:
        this.reply(message, 200, remote);
    }
  }

  private onInvite(message: sip.Message, remote: Peer, key: string): void {
    const contact = { contact: [{ uri: `sip:asterisk@${this.address}:${this.port}`, params: {} }] };
    switch (this.script) {
      case 'silent':
        return;
      case 'busy':
        this.reply(message, 486, remote);
        return;
      case 'unavailable':
        this.reply(message, 503, remote);
        return;
      case 'error':
        this.reply(message, 500, remote);
        return;
      case 'ring':
      case 'ring-drop-first-cancel':
        this.pendingInvites.set(key, message);
        this.reply(message, 100, remote);
        this.reply(message, 180, remote, contact);
        return;
      case 'answer':
        // The media at the gateway's own address: a real phone sends its RTP there.
        this.reply(message, 100, remote);
        this.reply(message, 180, remote, contact);
        this.reply(
          message,
          200,
          remote,
          { ...contact, 'content-type': 'application/sdp' },
          `v=0\r\no=- 1 1 IN IP4 ${this.address}\r\ns=-\r\nc=IN IP4 ${this.address}\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n`,
        );
    }
  }
}
