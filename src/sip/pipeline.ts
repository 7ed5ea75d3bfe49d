import { CacheUnavailableError, errorMessage, StoreUnreachableError } from '../errors.js';
import type { Logger } from '../log.js';
import { ReportThrottle } from '../core/report-throttle.js';
import type {
  LocalAddress,
  OwnForkExchange,
  ProxyResult,
  ReplyOptions,
  RequestHandler,
  ServerExchange,
  ServerForkExchange,
} from './engine.js';
import { checkRequest } from './core/request-sanity.js';

/** A method's handler; it must send a final response (or relay one) before it resolves. */
export type MethodStep = (exchange: ServerExchange) => Promise<void>;

/** What the metrics learn from the pipeline (src/metrics implements it). */
export interface SipObserver {
  sipRequest(method: string): void;
  sipResponse(method: string, status: number): void;
}

export interface PipelineOptions {
  local: LocalAddress;
  steps: Readonly<Record<string, MethodStep>>;
  log: Logger;
  observer: SipObserver;
  /** Load shedding: whether this new request is turned away (503) before its work. */
  sheds?(method: string, inDialog: boolean): boolean;
}

/** A store or cache outage fails every request: one log line per this, with the count held back. */
const OUTAGE_REPORT_MS = 10_000;

/** The exchange as the steps see it, counting every response sent upstream; its `forking` kept, so its proxy() takes what the engine's does. */
function observed(exchange: ServerExchange, observer: SipObserver): ServerExchange {
  const { method } = exchange.request;
  const counted = (result: ProxyResult): ProxyResult => {
    observer.sipResponse(method, result.status);
    return result;
  };
  const base = {
    request: exchange.request,
    get finalSent() {
      return exchange.finalSent;
    },
    reply(status: number, options?: ReplyOptions) {
      exchange.reply(status, options);
      observer.sipResponse(method, status);
    },
  };
  // Assigned onto `base`, not spread: finalSent stays a getter.
  if (exchange.forking === 'ours')
    return Object.assign(base, {
      forking: exchange.forking,
      proxy: async (...args: Parameters<OwnForkExchange['proxy']>) => counted(await exchange.proxy(...args)),
    });
  return Object.assign(base, {
    forking: exchange.forking,
    proxy: async (...args: Parameters<ServerForkExchange['proxy']>) => counted(await exchange.proxy(...args)),
  });
}

/**
 * Every request flows through the same steps: sanity checks, then the step
 * of its method. The runner guarantees exactly one final response: 405 for
 * a method without a step, 503 when the store or the cache is down, 500 for
 * any other throw or for a step that answered nothing. ACK is never answered.
 */
export function createPipeline(options: PipelineOptions): RequestHandler {
  const allow = Object.keys(options.steps)
    .filter((method) => method !== 'ACK')
    .join(', ');
  const outageReports = new ReportThrottle(OUTAGE_REPORT_MS);
  return async (received) => {
    options.observer.sipRequest(received.request.method);
    const exchange = observed(received, options.observer);
    const { request } = exchange;
    const callId = request.callId ?? '(no Call-ID)';
    try {
      const rejection = checkRequest(request, options.local);
      if (rejection) {
        options.log.debug(
          { callId, method: request.method, status: rejection.status },
          `${request.method} rejected: ${rejection.reason}`,
        );
        if (request.method !== 'ACK')
          exchange.reply(rejection.status, { reason: rejection.reason, headers: rejection.headers ?? {} });
        return;
      }
      if (options.sheds?.(request.method, request.to?.tag !== undefined)) {
        // RFC 3261 §21.5.4: the engine adds Retry-After to every 503.
        exchange.reply(503, { reason: 'Service Unavailable (overloaded)' });
        return;
      }
      const step = options.steps[request.method];
      if (!step) {
        exchange.reply(405, { headers: { Allow: allow } });
        return;
      }
      await step(exchange);
      if (!exchange.finalSent && request.method !== 'ACK') {
        options.log.error(
          { callId, method: request.method },
          `${request.method} ${callId}: the ${request.method} step sent no final response; answering 500`,
        );
        exchange.reply(500);
      }
    } catch (error) {
      const storeDown = error instanceof StoreUnreachableError || error instanceof CacheUnavailableError;
      const message = `${request.method} ${callId} failed: ${errorMessage(error)}`;
      if (!storeDown) options.log.error({ callId, method: request.method, err: error }, message);
      else {
        // An outage fails every request alike: one line per interval says it, with how many were held back.
        const heldBack = outageReports.admit(performance.now());
        if (heldBack !== undefined)
          options.log.warn(
            { callId, method: request.method, err: error, heldBack },
            `${message}; answering 503${heldBack > 0 ? ` (${heldBack} more requests failed the same way since the last report)` : ''}`,
          );
      }
      if (!exchange.finalSent && request.method !== 'ACK') exchange.reply(storeDown ? 503 : 500);
    }
  };
}
