import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Message, Remote as SipRemote } from 'sip';
import type { TextConnection } from './combined-transport.js';
import { inbound } from './inbound.js';
import { writeMessage } from './write-message.js';
import type { Remote, WorkerSteering } from './worker-steering.js';

/** A head larger than this is a flood, not SIP (the connection is closed). */
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * SIP over TCP (RFC 3261 §18.3): messages framed by Content-Length, one
 * connection per peer address reused both ways, every connection closed on
 * close() (the `sip` package's transport left them open for 120 s).
 */
export class TcpTransport {
  private readonly server: Server;
  private readonly connections = new Map<string, Socket>();

  constructor(
    private readonly local: { address: string; port: number },
    private readonly onMessage: (message: Message, remote: SipRemote) => void,
    /** With several workers: responses move to the worker that owns them, sends to the worker holding the connection. */
    private readonly steering?: WorkerSteering,
  ) {
    // In a cluster worker the primary listens and hands each accepted connection to one worker.
    this.server = createServer((socket) => this.adopt(socket, undefined, true));
    this.server.on('error', () => undefined);
    this.server.listen(local.port, local.address);
  }

  open(target: { address: string; port: number }): TextConnection {
    const key = `${target.address}:${target.port}`;
    let socket = this.connections.get(key);
    if (!socket || socket.destroyed) {
      // A phone's connection, accepted by another worker: its port takes no new connection, so the holder sends.
      const steering = this.steering;
      if (steering?.flowElsewhere(target)) return textConnection((text) => steering.sendOverFlow(target, text));
      socket = connect({ host: target.address, port: target.port, localAddress: this.local.address });
      this.adopt(socket, key);
    }
    const chosen = socket;
    return textConnection((text) => void chosen.write(Buffer.from(text, 'binary')));
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
    else if (result.kind === 'message') this.onMessage(result.message, { protocol: 'TCP', address: source.address, port: source.port, local: this.local });
  }

  close(): void {
    this.server.close();
    for (const socket of this.connections.values()) socket.destroy();
    this.connections.clear();
  }

  private adopt(socket: Socket, knownKey?: string, accepted = false): void {
    const remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const key = knownKey ?? `${remote.address}:${remote.port}`;
    this.connections.set(key, socket);
    if (accepted) this.steering?.flowOpened(remote);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (this.connections.get(key) === socket) this.connections.delete(key);
      if (accepted) this.steering?.flowClosed(remote);
    });
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('binary');
      buffer = this.frames(buffer, socket);
    });
  }

  /** Hands on every complete message in `buffer`; returns what is left of it. */
  private frames(buffer: string, socket: Socket): string {
    let rest = buffer.replace(/^(\r\n)+/, '');
    for (;;) {
      const end = rest.indexOf('\r\n\r\n');
      if (end < 0) {
        if (rest.length > MAX_HEAD_BYTES) socket.destroy();
        return rest;
      }
      const head = rest.slice(0, end);
      const lengthText = /^(?:content-length|l)[ \t]*:[ \t]*(\S*)/im.exec(head)?.[1] ?? '0';
      const length = /^\d+$/.test(lengthText) ? Number(lengthText) : -1;
      const source = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
      if (length < 0 || length > MAX_BODY_BYTES) {
        // The stream cannot be resynchronised after a bad length: answer if we can, then close.
        const result = inbound(rest.slice(0, end + 4), 'tcp', source);
        if (result.kind === 'reply') socket.end(Buffer.from(result.text, 'binary'));
        else socket.destroy();
        return '';
      }
      if (rest.length < end + 4 + length) return rest;
      const text = rest.slice(0, end + 4 + length);
      rest = rest.slice(end + 4 + length).replace(/^(\r\n)+/, '');
      if (!this.steering?.steer(text, 'tcp', source)) this.deliver(text, source, socket);
    }
  }
}

/** A TCP connection as the engine uses it, over a way to write text. */
function textConnection(sendText: (text: string) => void): TextConnection {
  return { protocol: 'TCP', reliable: true, send: (message) => sendText(writeMessage(message)), sendText, release: () => undefined };
}
