import { isIP } from 'node:net';
import type { AdminConfig } from '../config/schema.js';
import { isLoopback } from '../config/value-checks.js';

/**
 * RFC 9110 §7.2 Host: `uri-host [ ":" port ]`, the host a bracketed IPv6
 * literal or a name / IPv4 address. Anything else (`evil.example@127.0.0.1`,
 * a path) is no name of ours, and is never handed to a URL parser.
 */
const HOST_HEADER = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9._-]+))(?::\d{0,5})?$/i;

/** Lower case; an IPv6 address in its one short form (`0:0::1` is `::1`). */
function canonical(name: string): string {
  const lower = name.toLowerCase();
  return isIP(lower) === 6 ? new URL(`http://[${lower}]`).hostname.slice(1, -1) : lower;
}

/** The name a Host header gives, without its port; undefined when the header is not a host at all. */
export function hostNameOf(header: string): string | undefined {
  const match = HOST_HEADER.exec(header);
  if (!match) return undefined;
  const bracketed = match[1];
  if (bracketed !== undefined) return isIP(bracketed) === 6 ? canonical(bracketed) : undefined;
  return canonical(match[2] ?? '');
}

function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/**
 * Which Host headers name this admin API: the admin address, `localhost`
 * when that address is loopback, and `admin.allowedHosts`; the port is not
 * looked at (a published container port differs from the one we bind).
 * Against DNS rebinding: a page of the attacker's reaches us under the
 * attacker's name, and that name is in none of these. Bound to every
 * address (0.0.0.0, ::), any IP address is one of ours, and an address
 * cannot be rebound: only a name can.
 */
export function allowedHostCheck(
  config: Pick<AdminConfig, 'address' | 'allowedHosts'>,
): (host: string | undefined) => boolean {
  const address = canonical(config.address);
  const unspecified = isUnspecified(address);
  const names = new Set([address, ...config.allowedHosts.map(canonical)]);
  if (unspecified || isLoopback(address)) names.add('localhost');
  return (host) => {
    const name = host === undefined ? undefined : hostNameOf(host);
    if (name === undefined) return false;
    return names.has(name) || (unspecified && isIP(name) !== 0);
  };
}
