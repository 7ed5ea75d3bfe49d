import { errorMessage } from './errors.js';

/**
 * Why a socket could not be bound, in the operator's words: the errno codes
 * a bind fails with on Linux (bind(2)), else the system's own message.
 */
export function listenFailureReason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'EADDRINUSE') return 'the port is taken (another drouter or another program listens there)';
  if (code === 'EADDRNOTAVAIL') return 'not an address of this host';
  if (code === 'EACCES') return 'permission denied (a port below 1024 needs root or CAP_NET_BIND_SERVICE)';
  return errorMessage(error);
}
