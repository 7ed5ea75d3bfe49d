import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import type { Message, Remote as SipRemote } from 'sip';
import type { TextConnection } from './text-connection.js';
import { ReportThrottle } from '../../core/report-throttle.js';
import { inbound, type Received } from './inbound.js';
import { writeMessage } from './write-message.js';
import type { Remote, WorkerSteering } from './worker-steering.js';

const SOCKET_BUFFER_BYTES = 8 * 1024 * 1024;
/** Send failures repeat per datagram (a whole call's worth in a second): one report per this, with the count since. */
const SEND_ERROR_REPORT_MS = 5000;

/**
 * dgram looks up every destination, an address too (dns.lookup answers it
 * on the next tick): an address, which every send but a gateway named by
 * its host is, is answered at once; a name still goes to dns.lookup.
 */
function addressLookup(
  host: string,
  family: LookupOneOptions | number | undefined,
  callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const version = isIP(host);
  if (version !== 0) callback(null, host, version);
  else dnsLookup(host, typeof family === 'number' ? { family } : (family ?? {}), callback);
}

/** SIP over UDP: one socket, each datagram one message (RFC 3261 §18). */
export class UdpTransport {
  private readonly socket: Socket;
  private readonly sendErrors = new ReportThrottle(SEND_ERROR_REPORT_MS);

  constructor(
    private readonly local: { address: string; port: number },
    private readonly onMessage: (received: Received, remote: SipRemote) => void,
    /** With several workers: moves a datagram to the worker that owns it. */
    private readonly steering: WorkerSteering | undefined,
    /** A datagram the kernel would not send (ENETUNREACH while this node does not hold a virtual IP it binds). */
    private readonly onSendError: (error: Error) => void,
    /** Whether a datagram from this address is read at all (false: a banned source, dropped unparsed). */
    private readonly admitsSource: (address: string) => boolean = () => true,
  ) {
    // A GC pause at a few hundred calls/s outlasts the default ~200 kB socket
    // buffer: ask for 8 MB (the kernel caps it at net.core.rmem_max).
    this.socket = createSocket(
      {
        type: isIPv6(local.address) ? 'udp6' : 'udp4',
        recvBufferSize: SOCKET_BUFFER_BYTES,
        sendBufferSize: SOCKET_BUFFER_BYTES,
        lookup: addressLookup,
      },
      (data, rinfo) => this.receive(data, rinfo),
    );
    this.socket.on('error', () => undefined);
    // In a cluster worker this bind (exclusive: false, the default) asks the
    // primary, which binds one socket and shares its handle with every
    // worker: each datagram goes to whichever worker reads it first.
    this.socket.bind(local.port, local.address);
  }

  open(target: { address: string; port: number }): TextConnection {
    return new UdpPeer(this, target.address, target.port);
  }

  close(): void {
    this.socket.close();
  }

  /** Sends one datagram (no connection object: this runs for every message the proxy sends). */
  sendTo(text: string, to: { address: string; port: number }): void {
    // Node reports a failed send only to a callback: one shared function, no closure per datagram.
    this.socket.send(Buffer.from(text, 'binary'), to.port, to.address, this.sent);
  }

  private readonly sent = (error: Error | null): void => {
    if (error) this.sendFailed(error);
  };

  private sendFailed(error: Error): void {
    const heldBack = this.sendErrors.admit(Date.now());
    if (heldBack === undefined) return;
    const since = heldBack > 0 ? ` (and ${heldBack} more failed sends since the last report)` : '';
    this.onSendError(
      new Error(`SIP over UDP from ${this.local.address}:${this.local.port} not sent: ${error.message}${since}`, {
        cause: error,
      }),
    );
  }

  private receive(data: Buffer, rinfo: Remote): void {
    if (!this.admitsSource(rinfo.address)) return;
    const text = data.toString('binary');
    if (this.steering?.steer(text, 'udp', rinfo)) return;
    this.deliver(text, rinfo);
  }

  /** A datagram that is ours: read here, or handed over by the worker that read it (answers still leave from the shared socket). */
  deliver(text: string, source: Remote): void {
    const result = inbound(text, 'udp', source);
    if (result.kind === 'reply') this.sendTo(result.text, source);
    else if (result.kind !== 'drop')
      this.onMessage(result, { protocol: 'UDP', address: source.address, port: source.port, local: this.local });
  }
}

/**
 * A UDP peer as a connection: one small object (a server transaction keeps
 * its requester's for 32 s), not a set of closures.
 */
class UdpPeer implements TextConnection {
  readonly protocol = 'UDP';
  readonly reliable = false;

  constructor(
    private readonly transport: Pick<UdpTransport, 'sendTo'>,
    readonly address: string,
    readonly port: number,
  ) {}

  send(message: Message): void {
    this.sendText(writeMessage(message));
  }

  sendText(text: string): void {
    this.transport.sendTo(text, this);
  }

  release(): void {}
}
