import sip, { type Message, type NameAddr, type Remote, type RouteEntry } from 'sip';
import type { Endpoint, SipRequest, ViaHop } from '../engine.js';
import { transportOf } from '../core/endpoint.js';

/** The engine-neutral view of a `sip` package request. */
export class NativeRequest implements SipRequest {
  readonly source: Endpoint;

  constructor(
    readonly message: Message,
    remote: Remote,
  ) {
    this.source = { address: remote.address, port: remote.port, transport: transportOf(remote.protocol) };
  }

  get method(): string {
    return this.message.method ?? '';
  }

  get uri(): string {
    return typeof this.message.uri === 'string' ? this.message.uri : '';
  }

  get version(): string {
    return this.message.version;
  }

  get callId(): string | undefined {
    const value = this.message.headers['call-id'];
    return typeof value === 'string' ? value : undefined;
  }

  get cseq(): { seq: number; method: string } | undefined {
    const cseq = this.message.headers.cseq;
    if (!cseq || typeof cseq !== 'object' || !Number.isFinite(cseq.seq)) return undefined;
    return { seq: cseq.seq, method: cseq.method };
  }

  get vias(): readonly ViaHop[] {
    return (this.message.headers.via ?? []).map((via) => ({
      protocol: via.protocol,
      host: via.host,
      port: via.port,
      branch: typeof via.params.branch === 'string' ? via.params.branch : undefined,
    }));
  }

  get from(): { uri: string; tag: string | undefined } | undefined {
    return nameAddr(this.message.headers.from);
  }

  get to(): { uri: string; tag: string | undefined } | undefined {
    return nameAddr(this.message.headers.to);
  }

  get contacts(): SipRequest['contacts'] {
    const contact = this.message.headers.contact;
    if (contact === undefined) return undefined;
    if (contact === '*') return '*';
    return contact.map((entry) => ({
      uri: entry.uri,
      params: Object.fromEntries(
        Object.entries(entry.params).map(([name, value]) => [name.toLowerCase(), value === null ? undefined : value]),
      ),
    }));
  }

  get authorization(): string | undefined {
    return this.firstAuthHeader('authorization');
  }

  get proxyAuthorization(): string | undefined {
    return this.firstAuthHeader('proxy-authorization');
  }

  private firstAuthHeader(name: 'authorization' | 'proxy-authorization'): string | undefined {
    const value = this.message.headers[name];
    const first: unknown = Array.isArray(value) ? value[0] : undefined;
    return first ? sip.stringifyAuthHeader(first) : undefined;
  }

  get routes(): readonly string[] {
    return (this.message.headers.route ?? []).map(routeUri);
  }

  get body(): string {
    return this.message.content ?? '';
  }

  hasHeader(name: string): boolean {
    return this.message.headers[name.toLowerCase()] !== undefined;
  }

  header(name: string): string | undefined {
    const value = this.message.headers[name.toLowerCase()];
    // Structured headers (Via, To, From, CSeq, Contact, Route) have getters of their own.
    if (typeof value === 'string') return value;
    return typeof value === 'number' ? String(value) : undefined;
  }
}

function nameAddr(value: NameAddr | undefined): { uri: string; tag: string | undefined } | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const tag = value.params.tag;
  return { uri: value.uri, tag: typeof tag === 'string' ? tag : undefined };
}

/** A Route entry's URI as text (the parser gives an object). */
export function routeUri(route: RouteEntry): string {
  return typeof route.uri === 'string' ? route.uri : sip.stringifyUri(route.uri);
}
