import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import sip from 'sip';

/** What the stand-in Asterisk does with an INVITE. */
export type GatewayScript = 'answer' | 'busy' | 'unavailable' | 'error' | 'silent' | 'ring' | 'ring-drop-first-cancel';

/**
 * A UDP SIP peer standing in for an Asterisk gateway on its own 127.0.0.N,
 * built on the `sip` package's parser: answers INVITE as scripted, BYE and
 * CANCEL with 200 (and 487 for the cancelled INVITE), and records every
 * request it got.
 */
export class ScriptedGateway {
  readonly received: sip.Message[] = [];
  script: GatewayScript = 'answer';
  private readonly tag = `gw${Math.floor(Math.random() * 1e9)}`;
  private readonly pendingInvites = new Map<string, sip.Message>();

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    readonly port: number,
  ) {
    socket.on('message', (data, remote) => this.onMessage(data, remote));
  }

  static async start(address: string, port = 5060): Promise<ScriptedGateway> {
    const socket = createSocket('udp4');
    socket.bind(port, address);
    await once(socket, 'listening');
    return new ScriptedGateway(socket, address, port);
  }

  requests(method: string): sip.Message[] {
    return this.received.filter((message) => message.method === method);
  }

  /** Sends a response to a request again, as a gateway retransmitting its final does. */
  resend(request: sip.Message, status: number, to: { address: string; port: number }): void {
    this.reply(request, status, to);
  }

  close(): void {
    this.socket.close();
  }

  private reply(request: sip.Message, status: number, remote: { address: string; port: number }, extra: Record<string, unknown> = {}, content = ''): void {
    // RFC 3261 §12.1.1: a UAS copies Record-Route into responses that set up a dialog.
    const recordRoute = status > 100 && status < 300 && request.headers['record-route'] ? { 'record-route': request.headers['record-route'] } : {};
    const response = sip.makeResponse(request, status, '', { headers: { ...recordRoute, ...extra }, content });
    const to = request.headers.to;
    if (status > 100 && to) response.headers.to = { ...to, params: { ...to.params, tag: this.tag } };
    const text = sip.stringify(response);
    this.socket.send(Buffer.from(text, 'latin1'), remote.port, remote.address);
  }

  private onMessage(data: Buffer, remote: { address: string; port: number }): void {
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
      default:
        this.reply(message, 200, remote);
    }
  }

  private onInvite(message: sip.Message, remote: { address: string; port: number }, key: string): void {
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
        this.reply(message, 100, remote);
        this.reply(message, 180, remote, contact);
        this.reply(message, 200, remote, { ...contact, 'content-type': 'application/sdp' }, 'v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n');
    }
  }
}
