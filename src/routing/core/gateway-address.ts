import { formatParams, parseSipUri, type UriParam } from '../../sip/core/uri.js';

/**
 * A dr_gateways.address: `[sip:|sips:]host[:port][;params]`. A user part is
 * accepted and dropped, as OpenSIPS does (routing.c add_dst).
 */
export interface GatewayAddress {
  scheme: 'sip' | 'sips';
  host: string;
  port: number | undefined;
  params: readonly UriParam[];
  /** `host[:port][;params]`, the part that replaces hostport in a Request-URI. */
  hostPort: string;
}

export type GatewayAddressParse = { ok: true; address: GatewayAddress } | { ok: false; error: string };

export function parseGatewayAddress(text: string): GatewayAddressParse {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, error: 'the address is empty' };
  const withScheme = /^sips?:/i.test(trimmed) ? trimmed : `sip:${trimmed}`;
  const parsed = parseSipUri(withScheme);
  if (!parsed.ok) return { ok: false, error: `not host[:port][;params]: ${parsed.error}` };
  const { scheme, host, port, params, headers } = parsed.uri;
  if (headers !== undefined) return { ok: false, error: 'a gateway address takes no ?headers' };
  const portText = port === undefined ? '' : `:${port}`;
  return { ok: true, address: { scheme, host, port, params, hostPort: `${host}${portText}${formatParams(params)}` } };
}
