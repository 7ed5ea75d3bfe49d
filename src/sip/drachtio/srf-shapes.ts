/**
 * The parts of drachtio-srf 5.x objects this engine uses that its typings
 * leave out or type loosely (read from lib/request.js, lib/response.js,
 * lib/drachtio-agent.js and lib/sip-parser/parser.js of 5.0.29). Kept in one
 * place so a drachtio-srf upgrade has one file to check.
 */

/** A parsed name-addr header (From, To, Contact entries): params keep their quotes. */
export interface SrfNameAddr {
  name?: string;
  uri: string;
  params: Record<string, string | undefined | null>;
}

export interface SrfVia {
  version: string;
  protocol: string;
  host: string;
  port: number | undefined;
  params: Record<string, string | undefined | null>;
}

/** A Route entry: the URI comes parsed (drachtio-srf's parseUri), or as text when it did not parse. */
export interface SrfRoute {
  uri: string | { scheme?: string };
  params: Record<string, string | undefined | null>;
}

/** What the agent hands the proxy callback: the status tokens, the raw response, and where it came from. */
export type ProxyCallback = (
  token: string[],
  rawMsg: string | undefined,
  meta: { address?: string; port?: string },
) => void;

/** The proxy command of the wire protocol (drachtio-agent.js `proxy`), below Request#proxy. */
export interface SrfAgent {
  proxy(req: SrfInboundRequest, opts: Record<string, unknown>, callback: ProxyCallback): void;
}

export interface SrfResponse {
  send(status: number, reason: string, opts: { headers?: Record<string, string>; body?: string }): void;
  readonly finalResponseSent: boolean;
}

/** A request drachtio-server passed to us (network source). */
export interface SrfInboundRequest {
  readonly method: string;
  readonly uri: string;
  readonly body: string | undefined;
  readonly source_address: string;
  readonly source_port: number;
  readonly protocol: string;
  readonly stackTxnId: string;
  readonly msg: { version?: string; headers: Record<string, string> };
  readonly agent: SrfAgent;
  /** The connection to drachtio-server it came on (one per request in inbound mode). */
  readonly socket: unknown;
  get(name: string): string | undefined;
  has(name: string): boolean;
  getParsedHeader(name: string): unknown;
  on(event: 'cancel', listener: () => void): void;
}

/** A request we sent (srf.request resolves with it once drachtio-server has sent it). */
export interface SrfOutboundRequest {
  /** `source_address` is empty for a response drachtio-server made itself (a transport error, its own timeout). */
  on(event: 'response', listener: (res: { status: number; reason?: string; source_address?: string }) => void): void;
}
