/**
 * The SIP engine port: what the core needs from a SIP stack, in neutral
 * types. Two engines implement it (src/sip/native on the npm `sip`
 * package, src/sip/drachtio on drachtio-srf); their message objects never
 * leave their folders.
 */

export type Transport = 'udp' | 'tcp';

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
  headers?: Readonly<Record<string, string>>;
  body?: string;
}

/** One request handed to the core, with the way to answer it. */
export interface ServerExchange {
  readonly request: SipRequest;
  /** True once a final response (>= 200) was sent. */
  readonly finalSent: boolean;
  reply(status: number, options?: ReplyOptions): void;
}

export type RequestHandler = (exchange: ServerExchange) => Promise<void>;

export interface SipEngine {
  /** Where the engine listens, as configured (the address goes into Via and Record-Route). */
  readonly local: { address: string; port: number; transports: readonly Transport[] };
  start(onRequest: RequestHandler): Promise<void>;
  /** Closes listeners and every connection; pending transactions end. */
  stop(): Promise<void>;
}
