import type { ProxyOptions, ProxyResult, ProxyTarget, ReplyOptions, ServerForkExchange } from '../engine.js';
import { reasonPhrase } from '../core/reason-phrases.js';
import { withRetryAfter } from '../core/retry-after.js';
import { DrachtioRequest } from './drachtio-request.js';
import { proxyThroughDrachtio, type ProxyRunDeps } from './drachtio-proxy.js';
import type { SrfInboundRequest, SrfResponse } from './srf-shapes.js';

/**
 * A request drachtio-server passed to us, with its response object.
 * drachtio-server holds the server transaction: retransmissions, the To tag,
 * the 100 Trying of an INVITE (sent before we see it) and the CANCEL of a
 * request we have not answered yet (it answers 200 and 487 itself). The
 * fork is drachtio-server's: proxy() takes no ForkControl (engine.ts).
 */
export class DrachtioExchange implements ServerForkExchange {
  readonly forking = 'server';
  readonly request: DrachtioRequest;
  private final = false;
  private cancelledEarly = false;

  constructor(
    private readonly srfRequest: SrfInboundRequest,
    private readonly response: SrfResponse,
    private readonly proxyDeps: ProxyRunDeps,
    /** The Retry-After of every 503 we send (overload.retryAfterSeconds). */
    private readonly retryAfterSeconds: number,
  ) {
    this.request = new DrachtioRequest(srfRequest);
    // A CANCEL before we answered or proxied: drachtio-server has already sent 200 and 487.
    if (srfRequest.method === 'INVITE') {
      srfRequest.on('cancel', () => {
        this.cancelledEarly = true;
        this.final = true;
      });
    }
  }

  get finalSent(): boolean {
    return this.final;
  }

  reply(status: number, options: ReplyOptions = {}): void {
    if (this.cancelledEarly) return;
    if (this.final && status < 200) return;
    if (this.final) throw new Error(`${this.request.method} ${this.request.callId}: a final response was already sent`);
    // drachtio-srf throws on a status it has no phrase for: then nothing went out, and the pipeline may still answer.
    this.response.send(status, options.reason ?? reasonPhrase(status), {
      headers: headerValues(withRetryAfter(status, options.headers, this.retryAfterSeconds) ?? {}),
      ...(options.body ? { body: options.body } : {}),
    });
    if (status >= 200) this.final = true;
  }

  async proxy(targets: readonly ProxyTarget[], options: ProxyOptions): Promise<ProxyResult> {
    if (this.cancelledEarly) return { outcome: 'cancelled', attempts: [], status: 487 };
    try {
      return await proxyThroughDrachtio(this.srfRequest, targets, options, this.proxyDeps);
    } finally {
      this.final = true;
    }
  }
}

/**
 * drachtio-srf keeps one string per header name and writes it as one line,
 * so a repeated header (two WWW-Authenticate challenges) is folded into the
 * value as further lines; a comma-joined challenge list would be misread.
 */
function headerValues(headers: Readonly<Record<string, string | readonly string[]>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      typeof value === 'string' ? value : value.join(`\r\n${name}: `),
    ]),
  );
}
