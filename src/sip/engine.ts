/**
 * The SIP engine port: what the core needs from a SIP stack, in neutral
 * types. Two engines implement it (src/sip/native on the npm `sip`
 * package, src/sip/drachtio on drachtio-srf); their message objects never
 * leave their folders.
 */

export type Transport = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** Where SIP is taken: one address; UDP and TCP on `port`, TLS, WebSocket and secure WebSocket on ports of their own when listened for. */
export interface LocalAddress {
  address: string;
  port: number;
  tlsPort?: number | undefined;
  wsPort?: number | undefined;
  wssPort?: number | undefined;
}

export interface Endpoint {
  address: string;
  port: number;
  transport: Transport;
}

export interface ViaHop {
  protocol: string;
  host: string;
  port: number | undefined;
  branch: string | undefined;
}

/** A received request, read-only. Header names are case-insensitive; compact forms are expanded. */
export interface SipRequest {
  readonly method: string;
  readonly uri: string;
  readonly version: string;
  readonly callId: string | undefined;
  /** undefined when the CSeq header is missing or does not parse. */
  readonly cseq: { seq: number; method: string } | undefined;
  readonly vias: readonly ViaHop[];
  /** From and To URIs and tags; the To tag is set inside a dialog. */
  readonly from: { uri: string; tag: string | undefined } | undefined;
  readonly to: { uri: string; tag: string | undefined } | undefined;
  /** The Route header set, top first, as URIs. */
  readonly routes: readonly string[];
  /** Contact: '*', the entries (URI and parameters), or undefined when absent. */
  readonly contacts: '*' | readonly { uri: string; params: Readonly<Record<string, string | undefined>> }[] | undefined;
  /** The first Authorization header as text (`Digest username="…", …`). */
  readonly authorization: string | undefined;
  /** The first Proxy-Authorization header as text, the same way. */
  readonly proxyAuthorization: string | undefined;
  /** Where the request came from (the transport source, not the Via). */
  readonly source: Endpoint;
  readonly body: string;
  /** The raw value of an unstructured header (repeats joined with commas); undefined when absent. */
  header(name: string): string | undefined;
  /** Whether the header is present at all, structured (Via, To, From, …) or not. */
  hasHeader(name: string): boolean;
}

export interface ReplyOptions {
  reason?: string;
  /** A list sends the header once per value (several WWW-Authenticate challenges). */
  headers?: Readonly<Record<string, string | readonly string[]>>;
  body?: string;
}

/** One destination of a proxied request. */
export interface ProxyTarget {
  /** The Request-URI to send (already rewritten for this gateway). */
  uri: string;
  /** Where to send it. */
  destination: Endpoint;
  /** A name for logs and reports (the gwid). */
  label: string;
  /**
   * Route headers to send instead of the request's own (in-dialog requests:
   * the route set with our own entry removed). Undefined keeps the request's.
   */
  routes?: readonly string[];
}

/** How one attempt ended. */
export interface AttemptEnd {
  target: ProxyTarget;
  /** The final status seen (a local timeout is 408 with `local` set). */
  status: number;
  reason: string;
  /** True when we generated the status ourselves (no answer in time, send failure). */
  local: boolean;
  /** Whether a provisional response (>100) came before the end. */
  provisional: boolean;
  durationMs: number;
}

/**
 * What the fork did after an attempt, decided once by whoever runs it (our
 * `ForkControl` on the native engine, drachtio-server's own rules on the
 * drachtio engine): its 2xx went upstream; the next target was tried; its
 * final went upstream; no target was left to try; the caller's CANCEL
 * ended the fork.
 */
export type ForkDecision = 'answered' | 'failover' | 'relayed' | 'exhausted' | 'cancelled';

/** An attempt's end, and what followed it. */
export interface AttemptReport extends AttemptEnd {
  decision: ForkDecision;
}

/** What every engine's proxy honours. */
export interface ProxyOptions {
  /** Add our Record-Route (`;lr`), doubled when the two sides use different transports. */
  recordRoute: boolean;
  /** Give up on an attempt with no response at all after this long. */
  noResponseTimeoutMs: number;
  /** Each attempt as it ends, with the fork's decision (logging, metrics, passive gateway state). */
  onAttempt?(report: AttemptReport): void;
}

/** What follows each attempt, when the core decides it: only an exchange whose `forking` is 'ours' takes it. */
export interface ForkControl {
  /** Give up on an INVITE attempt this long after its first provisional response. */
  inviteTimeoutMs: number;
  /** After a non-2xx final (or a local timeout): move on to the next target? Else it goes upstream. */
  tryNext(attempt: AttemptEnd): boolean;
  /** The status sent upstream when every target failed (503 when not given). */
  whenExhausted?(attempts: readonly AttemptReport[]): number;
}

/** What we write into the forwarded request ourselves: only an exchange whose `forking` is 'ours' takes it. */
export interface RequestRewrite {
  /** A URI parameter for each Record-Route entry we add (the dialog token). */
  recordRouteParam?: { name: string; value: string };
  /** The Record-Route parameters naming a WebSocket peer's connection on its side (RFC 7118 §5.2); absent: none. */
  recordRouteFlow?: (flow: Endpoint) => string;
  /** Take the Proxy-Authorization off before forwarding: it answered our own challenge (RFC 3261 §22.3), and a gateway has no use for it. */
  consumeCredentials?: boolean;
}

/** Everything an engine that runs the fork itself is told. */
export type OwnForkOptions = ProxyOptions & ForkControl & RequestRewrite;

/** The options of `T`, each refused: an engine that would ignore them does not take them. */
export type Refused<T> = { [K in keyof T]?: never };

export interface ProxyResult {
  /** answered: a 2xx went upstream; failed: a non-2xx did; cancelled: the caller cancelled. */
  outcome: 'answered' | 'failed' | 'cancelled';
  attempts: AttemptReport[];
  /** The final status sent upstream. */
  status: number;
}

interface ExchangeBase {
  readonly request: SipRequest;
  /** True once a final response (>= 200) was sent. */
  readonly finalSent: boolean;
  reply(status: number, options?: ReplyOptions): void;
}

/**
 * An exchange whose engine runs the fork itself (the native engine): it
 * forwards the request statefully to each target in turn (RFC 3261 §16):
 * 100 Trying at once for INVITE, provisionals relayed, a 2xx relayed at
 * once, a CANCEL from upstream passed to the pending attempt; after each
 * other end it asks `tryNext`. Resolves when the final response has gone
 * upstream.
 */
export interface OwnForkExchange extends ExchangeBase {
  readonly forking: 'ours';
  proxy(targets: readonly ProxyTarget[], options: OwnForkOptions): Promise<ProxyResult>;
}

/**
 * An exchange whose engine hands the fork to its SIP server (the drachtio
 * engine: drachtio-server runs the transactions, moves on after any final
 * above 200 but a challenge, picks the final sent upstream, applies no
 * final timeout, and writes the request and its Record-Route itself;
 * docs/engines.md, "Where it differs"). It takes no ForkControl and no
 * RequestRewrite: the type refuses them rather than let them be ignored.
 */
export interface ServerForkExchange extends ExchangeBase {
  readonly forking: 'server';
  proxy(
    targets: readonly ProxyTarget[],
    options: ProxyOptions & Refused<ForkControl & RequestRewrite>,
  ): Promise<ProxyResult>;
}

/** One request handed to the core, with the ways to answer it; `forking` says what its proxy() takes. */
export type ServerExchange = OwnForkExchange | ServerForkExchange;

export type RequestHandler = (exchange: ServerExchange) => Promise<void>;

/** What the screen sees of a request: enough to limit it, before anything is built for it. */
export interface ScreenedRequest {
  readonly method: string;
  readonly source: Endpoint;
  readonly userAgent: string | undefined;
}

/**
 * Decides, before any work, whether a request is served or dropped without
 * an answer (a banned source, a source over its rate, a scanner): dropped
 * requests get no transaction and reach no handler. Synchronous: it runs
 * on every packet.
 */
export interface RequestScreen {
  /** Before the message is parsed, where the engine can (UDP): false drops it. */
  admitsSource(address: string): boolean;
  /** After parsing, before a transaction is made: false drops it. */
  admits(request: ScreenedRequest): boolean;
}

/** The screen that admits everything. */
export const ADMIT_ALL: RequestScreen = { admitsSource: () => true, admits: () => true };

/**
 * A request we originate outside any dialog (the prober's OPTIONS). The
 * engine adds Via, the From tag, Call-ID, CSeq and Max-Forwards, and runs
 * the client transaction (retransmissions over UDP).
 */
export interface OutgoingRequest {
  method: string;
  uri: string;
  destination: Endpoint;
  /** The From URI. */
  from: string;
}

/** How an originated request ended: its final response, no final within the timeout, or not sent at all (DNS, no transport). */
export type RequestOutcome =
  | { kind: 'response'; status: number; reason: string; rttMs: number }
  | { kind: 'timeout'; rttMs: number }
  | { kind: 'send-failed'; error: string };

/** Whether the engine can carry SIP now, and why not (an engine that drives another process can lose it). */
export interface EngineHealth {
  ok: boolean;
  detail: string;
}

export interface SipEngine {
  /**
   * Where the engine listens, as configured (the address goes into Via and Record-Route); the drachtio
   * engine's is its server's contact, filled in place at each connection (keep the object, not a copy).
   */
  readonly local: LocalAddress & { transports: readonly Transport[] };
  /** Listens; every request passes `screen` before anything is made for it. */
  start(onRequest: RequestHandler, screen?: RequestScreen): Promise<void>;
  /** Sends a request of our own and resolves with its outcome (never rejects). */
  request(request: OutgoingRequest, options: { timeoutMs: number }): Promise<RequestOutcome>;
  /** State held right now: client transactions (kept a while after they end) and INVITEs being proxied. */
  stats(): { clientTransactions: number; invitesInProgress: number };
  /** Tells `listener` of each connection a peer opened that has closed (its flow ended, RFC 5626). Absent: the engine cannot say. */
  watchFlows?(listener: (flow: Endpoint) => void): void;
  /** Reads the TLS files again (SIGHUP); false when there is no TLS; rejects naming the file (the old ones kept). Absent: the engine has no TLS of ours. */
  reloadCertificates?(): Promise<boolean>;
  /** Absent: always able (the embedded engine). The drachtio engine is not while its server is unreachable. */
  health?(): EngineHealth;
  /** Closes listeners and every connection; pending transactions end. */
  stop(): Promise<void>;
}
