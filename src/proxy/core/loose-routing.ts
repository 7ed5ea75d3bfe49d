import { endpointOfText, isOwnHop } from '../../sip/core/endpoint.js';
import type { Endpoint, LocalAddress, ProxyTarget, SipRequest } from '../../sip/engine.js';

/**
 * Loose routing (RFC 3261 §16.4, §16.12). Pure. A Route entry is ours when
 * it names our address and port; two entries of ours (double Record-Route)
 * are both ours.
 */

type Local = LocalAddress;

function isOwn(uri: string, local: Local): boolean {
  const hop = endpointOfText(uri);
  return hop !== undefined && isOwnHop(local, hop);
}

/** The route set without our own entries at its top (§16.4: a proxy removes the first Route value when it indicates this proxy). */
export function routesAfterOurs(routes: readonly string[], local: Local): string[] {
  let first = 0;
  while (first < routes.length && isOwn(routes[first] ?? '', local)) first++;
  return routes.slice(first);
}

/**
 * A request inside a dialog: the top Route must be us (we Record-Routed the
 * dialog); our entries are removed and the request goes to the next Route,
 * else to its Request-URI, unless our last entry names the connection of a
 * peer on that side (`flowOf`: a WebSocket phone, whose Contact cannot be
 * reached): then down that connection.
 */
export function inDialogTarget(
  request: Pick<SipRequest, 'uri' | 'routes'>,
  local: Local,
  flowOf: (route: string) => Endpoint | undefined = () => undefined,
): ProxyTarget | undefined {
  if (request.routes.length === 0 || !isOwn(request.routes[0] ?? '', local)) return undefined;
  const routes = routesAfterOurs(request.routes, local);
  const lastOfOurs = request.routes[request.routes.length - routes.length - 1] ?? '';
  const destination =
    (routes.length === 0 ? flowOf(lastOfOurs) : undefined) ?? endpointOfText(routes[0] ?? request.uri);
  if (!destination) return undefined;
  return { uri: request.uri, destination, label: 'dialog', routes };
}
