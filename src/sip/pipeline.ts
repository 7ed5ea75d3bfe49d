import { CacheUnavailableError } from '../cache/cache.js';
import { StoreUnreachableError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RequestHandler, ServerExchange } from './engine.js';
import { checkRequest } from './request-sanity.js';

/** A method's handler; it must send a final response (or relay one) before it resolves. */
export type MethodStep = (exchange: ServerExchange) => Promise<void>;

/** What the metrics learn from the pipeline (src/metrics implements it). */
export interface SipObserver {
  sipRequest(method: string): void;
  sipResponse(method: string, status: number): void;
}

export interface PipelineOptions {
  local: { address: string; port: number };
  steps: Readonly<Record<string, MethodStep>>;
  log: Logger;
  observer: SipObserver;
}

/** The exchange as the steps see it, counting every response sent upstream. */
function observed(exchange: ServerExchange, observer: SipObserver): ServerExchange {
  const { method } = exchange.request;
  return {
    request: exchange.request,
    get finalSent() {
      return exchange.finalSent;
    },
    reply(status, options) {
      exchange.reply(status, options);
      observer.sipResponse(method, status);
    },
    async proxy(targets, options) {
      const result = await exchange.proxy(targets, options);
      observer.sipResponse(method, result.status);
      return result;
    },
  };
}

/**
 * Every request flows through the same steps: sanity checks, then the step
 * of its method. The runner guarantees exactly one final response: 405 for
 * a method without a step, 503 when the store or the cache is down, 500 for
 * any other throw or for a step that answered nothing. ACK is never answered.
 */
export function createPipeline(options: PipelineOptions): RequestHandler {
  const allow = Object.keys(options.steps).filter((method) => method !== 'ACK').join(', ');
  return async (received) => {
    options.observer.sipRequest(received.request.method);
    const exchange = observed(received, options.observer);
    const { request } = exchange;
    const callId = request.callId ?? '(no Call-ID)';
    try {
      const rejection = checkRequest(request, options.local);
      if (rejection) {
        options.log.debug({ callId, method: request.method, status: rejection.status }, `${request.method} rejected: ${rejection.reason}`);
        if (request.method !== 'ACK') exchange.reply(rejection.status, { reason: rejection.reason, headers: rejection.headers ?? {} });
        return;
      }
      const step = options.steps[request.method];
      if (!step) {
        exchange.reply(405, { headers: { Allow: allow } });
        return;
      }
      await step(exchange);
      if (!exchange.finalSent && request.method !== 'ACK') {
        options.log.error({ callId, method: request.method }, `${request.method} ${callId}: the ${request.method} step sent no final response; answering 500`);
        exchange.reply(500);
      }
    } catch (error) {
      const storeDown = error instanceof StoreUnreachableError || error instanceof CacheUnavailableError;
      options.log.error({ callId, method: request.method, err: error }, `${request.method} ${callId} failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!exchange.finalSent && request.method !== 'ACK') exchange.reply(storeDown ? 503 : 500);
    }
  };
}
