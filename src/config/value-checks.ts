import { isIP } from 'node:net';
import { z } from 'zod';
import { parseNetwork } from '../sip/source-networks.js';

/**
 * The checks of single configuration values (addresses, ports, URLs, time
 * zones, networks) that the schema's sections are built from, and `leaf`,
 * which gives a value's schema the sentence an operator sees when it is wrong.
 */

export function leaf<T extends z.ZodType>(schema: T, allowed: string): T {
  return schema.describe(allowed);
}

/** Whether an IP address is a loopback address (127.0.0.0/8, ::1). */
export function isLoopback(address: string): boolean {
  return address === '::1' || /^127\./.test(address);
}

export const ipAddress = leaf(
  z.string().refine((s) => isIP(s) !== 0),
  'an IPv4 or IPv6 address such as 127.0.0.1',
);

export const hostName = leaf(z.string().regex(/^[A-Za-z0-9.:_-]+$/), 'a host name or IP address');

export const portNumber = leaf(z.number().int().min(1).max(65535), 'an integer port from 1 to 65535');

export function isStoreUrl(url: string): boolean {
  if (url.startsWith('sqlite:')) return url.length > 'sqlite:'.length;
  return parsesAs(url, 'mysql:', (u) => u.hostname !== '' && /^\/[^/]+$/.test(u.pathname));
}

export function isCacheUrl(url: string): boolean {
  if (url === 'memory') return true;
  return parsesAs(url, 'redis:', (u) => u.hostname !== '' && /^(\/\d*)?$/.test(u.pathname));
}

export function isTimeZone(name: string): boolean {
  if (name === 'system') return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function parsesAs(url: string, protocol: string, check: (u: URL) => boolean): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === protocol && check(parsed);
  } catch {
    return false;
  }
}

/** host:port, the host a name, an IPv4 address or a bracketed IPv6 address. */
export function isHostPort(text: string): boolean {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(text);
  return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
}

/** address:port with an IP address (IPv6 in brackets): a node's own SIP address, compared and sent to without DNS. */
export function isAddressPort(text: string): boolean {
  const host = /^\[?([^\]]+)\]?:\d+$/.exec(text)?.[1] ?? '';
  return isHostPort(text) && isIP(host) !== 0 && (isIP(host) === 4) === !text.startsWith('[');
}

/** An IPv4 or IPv6 address, or a network in CIDR form (192.0.2.0/24, 2001:db8::/32). */
export const sourceNetwork = z.string().refine((text) => parseNetwork(text) !== undefined);
