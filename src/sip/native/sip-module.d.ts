/**
 * The parts of the npm `sip` package (0.0.6, no types of its own) that the
 * native engine uses. Only src/sip/native/ imports `sip`.
 */
declare module 'sip' {
  export interface SipUriObject {
    schema: string;
    user?: string;
    password?: string;
    host: string;
    port?: number;
    params: Record<string, string | null>;
    headers: Record<string, string>;
  }

  export interface Via {
    version: string;
    protocol: string;
    host: string;
    port?: number;
    params: Record<string, string | null | undefined>;
  }

  export interface NameAddr {
    name?: string;
    uri: string;
    params: Record<string, string | null | undefined>;
  }

  /** Route, Record-Route and Path entries: the parser turns their URI into an object. */
  export interface RouteEntry {
    name?: string;
    uri: SipUriObject | string;
    params: Record<string, string | null | undefined>;
  }

  export interface CSeq {
    seq: number;
    method: string;
  }

  /** Parsed headers: known ones structured, others the raw text (repeats joined by commas). */
  export interface Headers {
    via?: Via[];
    to?: NameAddr;
    from?: NameAddr;
    'call-id'?: string;
    cseq?: CSeq;
    contact?: NameAddr[] | '*';
    route?: RouteEntry[];
    'record-route'?: RouteEntry[];
    'content-length'?: number;
    /** Left as text by the parser (`0068` stays `0068`); read it with parseMaxForwards. */
    'max-forwards'?: string;
    [name: string]: unknown;
  }

  export interface Message {
    method?: string;
    uri?: string;
    status?: number;
    reason?: string;
    version: string;
    headers: Headers;
    content?: string;
  }

  export interface Remote {
    protocol: string;
    address: string;
    port: number;
    local: { address: string; port: number };
  }

  export interface Connection {
    send(message: Message): void;
    release(): void;
    protocol: string;
  }

  export function makeResponse(
    request: Message,
    status: number,
    reason?: string,
    extension?: { headers?: Record<string, unknown>; content?: string },
  ): Message;
  /** The package's own serializer and parser: not used by the engine (write-message.ts, parse-message.ts), but the tests and the messages benchmark compare ours with them. */
  export function stringify(message: Message): string;
  export function parse(data: string | Buffer): Message | undefined;
  export function parseUri(text: string): SipUriObject | undefined;
  export function stringifyUri(uri: SipUriObject | string): string;
  export function stringifyAuthHeader(header: unknown): string;
}
