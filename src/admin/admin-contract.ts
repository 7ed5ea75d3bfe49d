import type { BindingCache, CacheConnection } from '../cache/cache.js';
import type { Clock } from '../clock.js';
import type { Leadership } from '../ha/leadership.js';
import type { Metrics } from '../metrics/metrics.js';
import type { CarrierStateService } from '../probe/carrier-state-service.js';
import type { GatewayStateService } from '../probe/gateway-state-service.js';
import type { Prober } from '../probe/prober-service.js';
import type { LocationLookup } from '../proxy/call-router.js';
import type { PeerLookup } from '../registrar/peer-service.js';
import type { ReloadReport, RoutingService } from '../routing/routing-service.js';
import type { SipEngine } from '../sip/engine.js';
import type { Store } from '../store/store.js';
import { DrouterError } from '../errors.js';

/**
 * The admin API's contract, apart from its routes (admin-api.ts) and its
 * HTTP server (admin-server.ts): what a route gets and answers, and the
 * services the routes run on.
 */

/** What a route handler gets from HTTP: path parameters, query string, JSON body. */
export interface AdminRequest {
  params: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string | undefined>>;
  body: unknown;
  /** Let through without the token by admin.openReads (request-guard.ts): answer as open-reads.ts says. */
  anonymous: boolean;
}

export type AdminReply = { status: number; body: unknown } | { status: number; text: string; contentType: string };

export interface AdminRoute {
  method: 'GET' | 'POST';
  /** fastify syntax: `/gateways/:gwid/enable`. */
  path: string;
  /** The body as it came, a string (POST /mi answers what is not JSON itself); else parsed JSON. */
  bodyText?: boolean;
  handler(request: AdminRequest): Promise<AdminReply>;
}

export interface AdminDeps {
  routing: RoutingService;
  gateways: GatewayStateService;
  carriers: CarrierStateService;
  prober: Prober;
  store: Pick<Store, 'ping' | 'listPeers' | 'displayUrl'>;
  /** Its health (GET /health) and the bindings it shows (GET /peers/:name): the admin API neither writes nor closes it. */
  cache: Pick<CacheConnection, 'ping' | 'displayUrl'> & Pick<BindingCache, 'getBindings'>;
  peers: PeerLookup;
  locate: LocationLookup;
  engine: SipEngine;
  engineName: string;
  metrics: Metrics;
  clock: Clock;
  reload(options: { inheritState?: boolean }): Promise<ReloadReport>;
  lastReload(): ReloadReport;
  leadership: Pick<Leadership, 'status' | 'keepalivedSaid'>;
}

/** An error with its HTTP status, sent as a coded JSON body: `{ error: { code, message } }`. */
export class AdminError extends DrouterError {
  constructor(
    readonly status: number,
    code: ConstructorParameters<typeof DrouterError>[0],
    message: string,
  ) {
    super(code, message);
  }
}

export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}
