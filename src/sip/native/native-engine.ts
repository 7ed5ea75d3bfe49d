import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import sip, { type Message, type Remote, type ServerTransaction } from 'sip';
import { DrouterError } from '../../errors.js';
import type { ReplyOptions, RequestHandler, ServerExchange, SipEngine, Transport } from '../engine.js';
import { reasonPhrase } from '../reason-phrases.js';
import { checkCanBind } from './bind-check.js';
import { NativeRequest } from './native-request.js';

export interface NativeEngineOptions {
  address: string;
  port: number;
  transports: readonly Transport[];
  /** Called for engine faults that no request owns (a send that threw). */
  onError: (error: unknown) => void;
}

/**
 * The embedded engine on the npm `sip` package. It composes the package's
 * transport and server-transaction layers itself rather than using
 * `sip.create()`/`sip.start()`: those treat any next hop on our own address
 * as a flow token (so a gateway on 127.0.0.1:5080 breaks a proxy on
 * 127.0.0.1:5060), and `start` is a module singleton.
 */
export class NativeEngine implements SipEngine {
  readonly local: SipEngine['local'];
  private transport: sip.Transport | undefined;
  private transactions: sip.TransactionLayer | undefined;
  /** TCP connections seen: the package's destroy() leaves them open (120 s idle timeout). */
  private readonly streams = new Set<Socket>();

  constructor(private readonly options: NativeEngineOptions) {
    this.local = { address: options.address, port: options.port, transports: options.transports };
  }

  async start(onRequest: RequestHandler): Promise<void> {
    const { address, port, transports } = this.options;
    try {
      await checkCanBind(address, port, transports);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new DrouterError('DROUTER_ERR_SIP_BIND', `cannot listen for SIP on ${address}:${port} (${transports.join('+')}): ${reason} (check sip.address and sip.port)`);
    }
    const transportOptions = { address, port, udp: transports.includes('udp'), tcp: transports.includes('tcp') };
    const transport = sip.makeTransport(transportOptions, (message, remote, stream) => {
      if (stream) this.trackStream(stream);
      this.receive(message, remote, onRequest);
    });
    this.transport = transport;
    this.transactions = sip.makeTransactionLayer(transportOptions, transport.open.bind(transport));
  }

  async stop(): Promise<void> {
    this.transactions?.destroy();
    this.transport?.destroy();
    for (const stream of this.streams) stream.destroy();
    this.streams.clear();
    this.transactions = undefined;
    this.transport = undefined;
  }

  private trackStream(stream: Socket): void {
    if (this.streams.has(stream)) return;
    this.streams.add(stream);
    stream.once('close', () => this.streams.delete(stream));
  }

  private receive(message: Message, remote: Remote, onRequest: RequestHandler): void {
    const transactions = this.transactions;
    const transport = this.transport;
    if (!transactions || !transport || message.method === undefined) return;
    const existing = transactions.getServer(message);
    if (existing) {
      existing.message(message, remote);
      return;
    }
    // An ACK outside a transaction (for a 2xx) is routed by the dialog logic of a later step.
    if (message.method === 'ACK') return;
    const connection = transport.get(remote) ?? transport.open(remote);
    const transaction = transactions.createServerTransaction(message, connection);
    const exchange = new NativeExchange(message, remote, transaction);
    onRequest(exchange).catch((error: unknown) => this.options.onError(error));
  }
}

/** A request and its server transaction. */
class NativeExchange implements ServerExchange {
  readonly request: NativeRequest;
  private toTag: string | undefined;
  private final = false;

  constructor(
    private readonly message: Message,
    remote: Remote,
    private readonly transaction: ServerTransaction,
  ) {
    this.request = new NativeRequest(message, remote);
  }

  get finalSent(): boolean {
    return this.final;
  }

  reply(status: number, options: ReplyOptions = {}): void {
    if (this.final) throw new Error(`${this.message.method} ${this.message.headers['call-id']}: a final response was already sent`);
    const response = sip.makeResponse(this.message, status, options.reason ?? reasonPhrase(status), {
      headers: { ...options.headers },
      content: options.body ?? '',
    });
    // RFC 3261 §8.2.6.2: a response that may end a dialog attempt carries a To tag, the same one every time.
    const to = this.message.headers.to;
    if (status > 100 && to && to.params.tag === undefined) {
      this.toTag ??= randomBytes(6).toString('hex');
      response.headers.to = { ...to, params: { ...to.params, tag: this.toTag } };
    }
    // We speak SIP/2.0 whatever the request claimed (a 505 to SIP/7.0 is itself SIP/2.0).
    response.version = '2.0';
    if (status >= 200) this.final = true;
    this.transaction.send(response);
  }
}
