import Srf from 'drachtio-srf';
import type { Endpoint, SipRequest, Transport, ViaHop } from '../engine.js';
import { transportOf } from '../core/endpoint.js';
import type { SrfInboundRequest, SrfNameAddr, SrfRoute, SrfVia } from './srf-shapes.js';

/**
 * The engine-neutral view of a request drachtio-server passed to us. The
 * text drachtio-server sends is its own re-encoding of what arrived (sofia-sip
 * parsed it first); drachtio-srf splits it into header strings, repeats joined
 * with commas, and parses the structured ones on demand.
 */
export class DrachtioRequest implements SipRequest {
  readonly source: Endpoint;

  constructor(readonly srfRequest: SrfInboundRequest) {
    this.source = {
      address: srfRequest.source_address,
      port: Number(srfRequest.source_port),
      transport: this.arrivedOver(),
    };
  }

  /**
   * The transport it came on. drachtio-server says only udp, tls or tcp
   * (drachtio.cpp SipMsgData_t: tport_is_udp, tport_has_tls, tport_is_tcp),
   * tcp for WS and WSS; sofia has checked the top Via against the transport
   * it came on (nta.c agent_check_request_via drops a mismatch), so over a
   * stream its Via's TLS, WS or WSS is the transport.
   */
  private arrivedOver(): Transport {
    const said = transportOf(this.srfRequest.protocol);
    if (said !== 'tcp') return said;
    const via = transportOf(this.vias[0]?.protocol ?? '');
    return via === 'tls' || via === 'ws' || via === 'wss' ? via : said;
  }

  get method(): string {
    return this.srfRequest.method;
  }

  get uri(): string {
    return this.srfRequest.uri;
  }

  get version(): string {
    return this.srfRequest.msg.version ?? '2.0';
  }

  get callId(): string | undefined {
    return this.srfRequest.get('call-id')?.trim();
  }

  get cseq(): { seq: number; method: string } | undefined {
    const match = /^\s*(\d+)\s+(\S+)\s*$/.exec(this.srfRequest.get('cseq') ?? '');
    if (!match) return undefined;
    return { seq: Number(match[1]), method: match[2] ?? '' };
  }

  get vias(): readonly ViaHop[] {
    return this.parsed<SrfVia[]>('via', []).map((via) => ({
      protocol: via.protocol,
      host: via.host,
      port: via.port,
      branch: typeof via.params.branch === 'string' ? via.params.branch : undefined,
    }));
  }

  get from(): { uri: string; tag: string | undefined } | undefined {
    return tagged(this.parsed<SrfNameAddr | undefined>('from', undefined));
  }

  get to(): { uri: string; tag: string | undefined } | undefined {
    return tagged(this.parsed<SrfNameAddr | undefined>('to', undefined));
  }

  get routes(): readonly string[] {
    return this.parsed<SrfRoute[]>('route', []).map((route) => routeText(route.uri));
  }

  get contacts(): SipRequest['contacts'] {
    const raw = this.srfRequest.get('contact');
    if (raw === undefined) return undefined;
    // drachtio-srf's parser compares its cursor object with '*', so it never returns the star itself.
    if (raw.trim() === '*') return '*';
    return this.parsed<SrfNameAddr[]>('contact', []).map((entry) => ({
      uri: entry.uri,
      params: Object.fromEntries(
        Object.entries(entry.params).map(([name, value]) => [name.toLowerCase(), value ?? undefined]),
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
    // Repeated headers arrive joined by commas, which digest values contain too: take the parser's first entry.
    const [first] = this.parsed<Record<string, string | undefined>[]>(name, []);
    if (!first) return undefined;
    const { scheme, ...fields } = first;
    const pairs = Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => `${name}=${value}`);
    return `${scheme ?? ''} ${pairs.join(', ')}`.trim();
  }

  get body(): string {
    return this.srfRequest.body ?? '';
  }

  hasHeader(name: string): boolean {
    return this.srfRequest.has(name);
  }

  header(name: string): string | undefined {
    return this.srfRequest.get(name);
  }

  /** A structured header, parsed; `fallback` when absent or when drachtio-srf's parser throws on it. */
  private parsed<T>(name: string, fallback: T): T {
    if (!this.srfRequest.has(name)) return fallback;
    try {
      return this.srfRequest.getParsedHeader(name) as T;
    } catch {
      return fallback;
    }
  }
}

function tagged(value: SrfNameAddr | undefined): { uri: string; tag: string | undefined } | undefined {
  if (!value) return undefined;
  const tag = value.params.tag;
  return { uri: value.uri, tag: typeof tag === 'string' ? tag : undefined };
}

/** A Route URI as text: drachtio-srf's parser gives an object, which its own stringifier writes back in order. */
function routeText(uri: SrfRoute['uri']): string {
  return typeof uri === 'string' ? uri : Srf.stringifyUri(uri);
}
