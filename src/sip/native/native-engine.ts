import sip, { type Message, type Remote } from 'sip';
import { DrouterError } from '../../errors.js';
import { listenFailureReason } from '../../listen-failure.js';
import {
  ADMIT_ALL,
  type Endpoint,
  type OutgoingRequest,
  type RequestHandler,
  type RequestOutcome,
  type RequestScreen,
  type SipEngine,
  type Transport,
} from '../engine.js';
import type { AttemptHooks } from './client-attempt.js';
import { originate } from './originate.js';
import { NativeExchange } from './native-exchange.js';
import { reasonPhrase } from '../core/reason-phrases.js';
import { DEFAULT_RETRY_AFTER_SECONDS } from '../core/retry-after.js';
import { checkCanBind } from './bind-check.js';
import { combinedTransport, type NativeTransport } from './combined-transport.js';
import { type ServerTransaction, ServerTransactions } from './server-transactions.js';
import { parseHop, topBranch } from './hops.js';
import { strayResponseHop } from './stray-response.js';
import { type TcpLimits, type TcpObserver, TcpTransport } from './tcp-transport.js';
import { openOwnPortTransports, type WebSocketSettings } from './own-port-transports.js';
import type { TlsCredentials } from './tls-credentials.js';
import { isOwnHop, transportOf } from '../core/endpoint.js';
import { UdpTransport } from './udp-transport.js';
import { writeMessage } from './write-message.js';
import type { WorkerSteering } from './worker-steering.js';
import type { InboundResponse } from './inbound-response.js';
import type { Received } from './inbound.js';
import type { ReceivedText } from './forward-request.js';
import { type AckDialogOptions, forwardAck } from './ack-forwarding.js';

export interface NativeEngineOptions extends AckDialogOptions {
  address: string;
  port: number;
  transports: readonly Transport[];
  /** sip.tcp: the caps, timeouts and size limits of the TCP connections (TLS ones too). */
  tcp: TcpLimits;
  /** SIP over TLS on its own port, when `transports` has tls (its certificate also serves wss). */
  tls?: { port: number; credentials: TlsCredentials };
  /** SIP over WebSocket, when `transports` has ws or wss. */
  websocket?: WebSocketSettings;
  /** Told of the TCP connections refused by a cap or closed by a limit (the metrics). */
  tcpObserver?: TcpObserver;
  /** Called for engine faults that no request owns (a send that threw). */
  onError: (error: unknown) => void;
  /** A worker of `drouter start --workers N`: how it shares the SIP address with the others. */
  steering?: WorkerSteering;
  /** The Retry-After of every 503 this engine sends (overload.retryAfterSeconds). */
  retryAfterSeconds?: number;
}

/**
 * The embedded engine on the npm `sip` package's message shapes, with our
 * own parser and serializer, server and client transactions and UDP and
 * TCP transports (which check raw requests and close their connections).
 * Not `sip.create()`/`sip.start()`: those treat any next hop on our own
 * address as a flow token (so a gateway on 127.0.0.1:5080 breaks a proxy on
 * 127.0.0.1:5060), and `start` is a module singleton.
 */
export class NativeEngine implements SipEngine {
  readonly local: SipEngine['local'];
  private transport: NativeTransport | undefined;
  private reloadTls: (() => Promise<void>) | undefined;
  private flowListener: ((flow: Endpoint) => void) | undefined;
  private readonly flowClosed = (transport: Transport, remote: { address: string; port: number }): void =>
    this.flowListener?.({ transport, address: remote.address, port: remote.port });
  private transactions: ServerTransactions | undefined;
  /** Our client transactions, by `branch|CSeq method`. */
  private readonly attempts = new Map<string, (response: InboundResponse) => void>();
  /** INVITEs being proxied, by `Call-ID|top Via branch`, for the caller's CANCEL. */
  private readonly proxied = new Map<string, () => void>();
  private readonly forgetAttempt = (key: string): void => void this.attempts.delete(key);

  get retryAfterSeconds(): number {
    return this.options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
  }

  constructor(private readonly options: NativeEngineOptions) {
    const listens = (transport: Transport) => options.transports.includes(transport);
    this.local = {
      address: options.address,
      port: options.port,
      tlsPort: listens('tls') ? options.tls?.port : undefined,
      wsPort: listens('ws') ? options.websocket?.port : undefined,
      wssPort: listens('wss') ? options.websocket?.securePort : undefined,
      transports: options.transports,
    };
  }

  async start(onRequest: RequestHandler, screen: RequestScreen = ADMIT_ALL): Promise<void> {
    const { address, port, transports } = this.options;
    const plain = transports.filter((transport) => transport === 'udp' || transport === 'tcp');
    try {
      await checkCanBind(address, port, plain);
    } catch (error) {
      throw new DrouterError(
        'DROUTER_ERR_SIP_BIND',
        `cannot listen for SIP on ${address}:${port} (${plain.join('+')}): ${listenFailureReason(error)}; set sip.address and sip.port (DROUTER_SIP__ADDRESS, DROUTER_SIP__PORT) to a free address and port, or stop what holds it`,
      );
    }
    // Whatever a message does to the code below, it must not take the process down.
    const onMessage = (received: Received, remote: Remote) => {
      try {
        if (received.kind === 'response') this.receiveResponse(received.response);
        else this.receive(received.message, received.raw, remote, onRequest, screen);
      } catch (error) {
        this.options.onError(error);
      }
    };
    const { steering, tcp: limits, tcpObserver: observer } = this.options;
    const udp = transports.includes('udp')
      ? new UdpTransport({ address, port }, onMessage, steering, this.options.onError, (source) =>
          screen.admitsSource(source),
        )
      : undefined;
    const tcp = transports.includes('tcp')
      ? new TcpTransport({
          local: { address, port },
          limits,
          onMessage,
          steering,
          observer,
          onFlowClosed: (remote) => this.flowClosed('tcp', remote),
        })
      : undefined;
    const { reloadCertificates, ...ownPort } = await openOwnPortTransports({
      address,
      transports,
      tls: this.options.tls,
      websocket: this.options.websocket,
      limits,
      observer,
      onMessage,
      onFlowClosed: this.flowClosed,
      workers: steering !== undefined,
    });
    this.reloadTls = reloadCertificates;
    steering?.attach({
      receive: (text, transport, source) => (transport === 'udp' ? udp : tcp)?.deliver(text, source),
      writeToFlow: (remote, text) => tcp?.writeToFlow(remote, text) ?? false,
    });
    const transport = combinedTransport({ UDP: udp, TCP: tcp, ...ownPort });
    this.transport = transport;
    this.transactions = new ServerTransactions();
  }

  request(request: OutgoingRequest, options: { timeoutMs: number }): Promise<RequestOutcome> {
    return originate(request, options, {
      local: this.local,
      branchPrefix: this.branchPrefix,
      hooks: (onSendError) => ({
        ...this.attemptHooks(() => undefined),
        send: (message, to) => this.send(message, to, onSendError),
        sendText: (text, to) => this.sendText(text, to, onSendError),
      }),
    });
  }

  watchFlows(listener: (flow: Endpoint) => void): void {
    this.flowListener = listener;
  }

  /** SIGHUP: the TLS certificate, key and CA read again; open connections keep theirs. Rejects naming the file, the old ones kept. */
  async reloadCertificates(): Promise<boolean> {
    if (!this.reloadTls) return false;
    await this.reloadTls();
    return true;
  }

  stats(): { clientTransactions: number; invitesInProgress: number } {
    return { clientTransactions: this.attempts.size, invitesInProgress: this.proxied.size };
  }

  async stop(): Promise<void> {
    this.transactions?.destroy();
    this.transport?.destroy();
    this.transactions = undefined;
    this.transport = undefined;
  }

  private receive(
    message: Message,
    raw: ReceivedText,
    remote: Remote,
    onRequest: RequestHandler,
    screen: RequestScreen,
  ): void {
    const transactions = this.transactions;
    const transport = this.transport;
    if (!transactions || !transport) return;
    if (!this.screened(message, remote, screen)) return;
    if (transactions.absorb(message)) return;
    if (message.method === 'ACK') {
      forwardAck(this, this.options, message, raw, remote);
      return;
    }
    const connection = transport.get(remote) ?? transport.open(remote);
    const transaction = transactions.create(message, connection);
    if (message.method === 'CANCEL') {
      this.cancel(message, transaction);
      return;
    }
    const exchange = new NativeExchange(message, raw, remote, transaction, this);
    onRequest(exchange).catch((error: unknown) => this.options.onError(error));
  }

  /** A response goes to its client transaction; one that has none here is forwarded by its Via when the Via is ours. */
  private receiveResponse(response: InboundResponse): void {
    if (!this.transport) return;
    const attempt = this.attempts.get(`${response.branch}|${response.method}`);
    if (attempt) {
      attempt(response);
      return;
    }
    const stray = strayResponseHop(response.message(), this.local);
    if (stray) this.send(stray.message, stray.to);
  }

  /** Whether the screen lets a request in (over TCP its source is checked here; over UDP before parsing too). */
  private screened(message: Message, remote: Remote, screen: RequestScreen): boolean {
    if (!screen.admitsSource(remote.address)) return false;
    const userAgent = message.headers['user-agent'];
    const source: Endpoint = { address: remote.address, port: remote.port, transport: transportOf(remote.protocol) };
    return screen.admits({
      method: message.method ?? '',
      source,
      userAgent: typeof userAgent === 'string' ? userAgent : undefined,
    });
  }

  /** RFC 3261 §16.10: 200 to the CANCEL, then the pending attempt is cancelled; 481 when nothing matches. */
  private cancel(message: Message, transaction: ServerTransaction): void {
    const stop = this.proxied.get(`${message.headers['call-id']}|${topBranch(message)}`);
    const response = sip.makeResponse(message, stop ? 200 : 481, stop ? 'OK' : reasonPhrase(481));
    response.version = '2.0';
    transaction.send(response);
    stop?.();
  }

  /** Our branches' start: a worker's carries its number, so that responses find their way back to it. */
  get branchPrefix(): string | undefined {
    return this.options.steering?.branchPrefix;
  }

  isOwnUri(uri: string): boolean {
    const hop = parseHop(uri);
    return hop !== undefined && isOwnHop(this.local, hop);
  }

  /** Sends a message to an address (never through the package's flow-token logic); a failure goes to `onError`. */
  send(message: Message, to: Endpoint, onError: (error: unknown) => void = this.options.onError): void {
    this.sendText(writeMessage(message), to, onError);
  }

  /** Sends a message already written, the same way. */
  sendText(text: string, to: Endpoint, onError: (error: unknown) => void = this.options.onError): void {
    const transport = this.transport;
    if (!transport) {
      onError(new Error('the SIP engine is not running'));
      return;
    }
    try {
      transport.sendText({ protocol: to.transport.toUpperCase(), address: to.address, port: to.port }, text, onError);
    } catch (error) {
      onError(error);
    }
  }

  attemptHooks(relay: (response: InboundResponse) => void): AttemptHooks {
    return {
      send: (message, to) => this.send(message, to),
      sendText: (text, to, onFailure) => this.sendText(text, to, onFailure),
      relay,
      register: (branch, method, onResponse) => this.attempts.set(`${branch}|${method}`, onResponse),
      unregister: (branch, method) => this.attempts.delete(`${branch}|${method}`),
      linger: (branch, method, onResponse, ms) => {
        const key = `${branch}|${method}`;
        if (ms <= 0) {
          this.attempts.delete(key);
          return;
        }
        this.attempts.set(key, onResponse);
        // The timer holds the key only, never the call.
        setTimeout(this.forgetAttempt, ms, key).unref();
      },
      now: () => performance.now(),
    };
  }

  /** Registers a proxied INVITE for the caller's CANCEL; returns the way to unregister it. */
  watchCancel(message: Message, onCancel: () => void): () => void {
    const key = `${message.headers['call-id']}|${topBranch(message)}`;
    this.proxied.set(key, onCancel);
    return () => this.proxied.delete(key);
  }
}
