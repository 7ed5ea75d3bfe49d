import sip, { type Message, type Remote } from 'sip';
import { randomHex } from '../../random-pool.js';
import type { OwnForkExchange, OwnForkOptions, ProxyResult, ProxyTarget, ReplyOptions, SipEngine } from '../engine.js';
import { reasonPhrase } from '../core/reason-phrases.js';
import { withRetryAfter } from '../core/retry-after.js';
import { proxySequentially } from './native-proxy.js';
import { NativeRequest } from './native-request.js';
import type { ServerTransaction } from './server-transactions.js';
import type { AttemptHooks } from './client-attempt.js';
import type { InboundResponse } from './inbound-response.js';
import type { ReceivedText } from './forward-request.js';

/** What an exchange asks of the engine that received its request (native-engine.ts). */
export interface ExchangeEngine {
  readonly local: SipEngine['local'];
  /** The prefix of this worker's branches (worker-steering.ts), if any. */
  readonly branchPrefix: string | undefined;
  /** The Retry-After of every 503 the engine sends. */
  readonly retryAfterSeconds: number;
  /** How an attempt sends and whom its responses are relayed to. */
  attemptHooks(relay: (response: InboundResponse) => void): AttemptHooks;
  /** Calls `onCancel` when the INVITE's CANCEL comes; the returned function stops watching. */
  watchCancel(invite: Message, onCancel: () => void): () => void;
}

/** A request and its server transaction; the fork is ours (native-proxy.ts). */
export class NativeExchange implements OwnForkExchange {
  readonly forking = 'ours';
  readonly request: NativeRequest;
  private toTag: string | undefined;
  /** Whether a final response went upstream: shared with the relay of late responses, which outlives the exchange. */
  private readonly upstream = { final: false };

  constructor(
    private readonly message: Message,
    private readonly raw: ReceivedText,
    remote: Remote,
    private readonly transaction: ServerTransaction,
    private readonly engine: ExchangeEngine,
  ) {
    this.request = new NativeRequest(message, remote);
  }

  async proxy(targets: readonly ProxyTarget[], options: OwnForkOptions): Promise<ProxyResult> {
    let onCancel: () => void = () => undefined;
    const cancelled = new Promise<void>((resolve) => (onCancel = resolve));
    const unwatch =
      this.message.method === 'INVITE' ? this.engine.watchCancel(this.message, onCancel) : () => undefined;
    try {
      return await proxySequentially(
        {
          request: this.message,
          raw: this.raw,
          inbound: this.request.source,
          local: this.engine.local,
          branchPrefix: this.engine.branchPrefix,
          hooks: this.relayingHooks(),
          respond: (status, reason) => this.reply(status, reason === undefined ? {} : { reason }),
          cancelled,
        },
        targets,
        options,
      );
    } finally {
      unwatch();
    }
  }

  /**
   * Made apart from proxy(), and holding only the server transaction and
   * whether a final went up: an INVITE attempt's hooks outlive the call by
   * 32 s (retransmitted and late 2xx), and a closure over the exchange, or
   * over proxy()'s scope, kept the parsed request, its text and the CANCEL
   * promise alive that long (at 1 400 calls/s some 45 000 calls at once:
   * the old generation that garbage collection then kept walking).
   */
  private relayingHooks(): AttemptHooks {
    const { transaction, upstream } = this;
    return this.engine.attemptHooks((response) => relayUpstream(transaction, upstream, response));
  }

  get finalSent(): boolean {
    return this.upstream.final;
  }

  reply(status: number, options: ReplyOptions = {}): void {
    if (this.upstream.final && status < 200) return;
    if (this.upstream.final)
      throw new Error(`${this.message.method} ${this.message.headers['call-id']}: a final response was already sent`);
    const response = sip.makeResponse(this.message, status, options.reason ?? reasonPhrase(status), {
      headers: headerLines(withRetryAfter(status, options.headers, this.engine.retryAfterSeconds) ?? {}),
      content: options.body ?? '',
    });
    // RFC 3261 §8.2.6.2: a response that may end a dialog attempt carries a To tag, the same one every time.
    const to = this.message.headers.to;
    if (status > 100 && to && to.params.tag === undefined) {
      this.toTag ??= randomHex(6);
      response.headers.to = { ...to, params: { ...to.params, tag: this.toTag } };
    }
    // We speak SIP/2.0 whatever the request claimed (a 505 to SIP/7.0 is itself SIP/2.0).
    response.version = '2.0';
    if (status >= 200) this.upstream.final = true;
    this.transaction.send(response);
  }
}

/** A relayed response goes upstream unless a final went first and this one is no 2xx (RFC 3261 §16.7 step 10). */
function relayUpstream(transaction: ServerTransaction, upstream: { final: boolean }, response: InboundResponse): void {
  const { status } = response;
  if (upstream.final && status >= 300) return;
  if (status >= 200) upstream.final = true;
  transaction.sendText(status, response.relayText());
}

/**
 * The package writes one line per header name; a repeated header is folded
 * into its value as further lines (`WWW-Authenticate: a\r\nWWW-Authenticate: b`).
 */
function headerLines(headers: Readonly<Record<string, string | readonly string[]>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      typeof value === 'string' ? value : value.join(`\r\n${name}: `),
    ]),
  );
}
