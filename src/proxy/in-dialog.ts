import { endpointOfText } from '../sip/endpoint.js';
import type { ProxyTarget, SipRequest } from '../sip/engine.js';

/**
 * Loose routing of a request inside a dialog (RFC 3261 §16.4, §16.12): the
 * top Route must be us (we Record-Routed the dialog); it is removed and the
 * request goes to the next Route, else to its Request-URI. Two entries of
 * ours (double Record-Route) are both removed. Pure.
 */
export function inDialogTarget(request: Pick<SipRequest, 'uri' | 'routes'>, local: { address: string; port: number }): ProxyTarget | undefined {
  const isOwn = (uri: string) => {
    const hop = endpointOfText(uri);
    return hop !== undefined && hop.address === local.address && hop.port === local.port;
  };
  const routes = [...request.routes];
  if (routes.length === 0 || !isOwn(routes[0] ?? '')) return undefined;
  while (routes.length > 0 && isOwn(routes[0] ?? '')) routes.shift();
  const destination = endpointOfText(routes[0] ?? request.uri);
  if (!destination) return undefined;
  return { uri: request.uri, destination, label: 'dialog', routes };
}
