import type { Remote } from 'sip';
import { DrouterError } from '../../errors.js';
import { listenFailureReason } from '../../listen-failure.js';
import type { Transport } from '../engine.js';
import { checkCanBind } from './bind-check.js';
import type { Transports } from './combined-transport.js';
import type { Received } from './inbound.js';
import { type TcpLimits, type TcpObserver, TcpTransport, tlsStream } from './tcp-transport.js';
import type { TlsCredentials } from './tls-credentials.js';
import { WsTransport } from './ws-transport.js';

/** sip.websocket: where WebSocket phones connect, and from which web pages. */
export interface WebSocketSettings {
  port: number;
  securePort: number;
  allowedOrigins: readonly string[];
}

export interface OwnPortOptions {
  address: string;
  transports: readonly Transport[];
  tls: { port: number; credentials: TlsCredentials } | undefined;
  websocket: WebSocketSettings | undefined;
  limits: TcpLimits;
  observer: TcpObserver | undefined;
  onMessage: (received: Received, remote: Remote) => void;
  onFlowClosed: (transport: Transport, remote: { address: string; port: number }) => void;
  /** With --workers N: these transports are not shared between workers yet. */
  workers: boolean;
}

/** The transports beyond UDP and TCP, and how to read their certificate again. */
export type OwnPortTransports = Pick<Transports, 'TLS' | 'WS' | 'WSS'> & {
  reloadCertificates: (() => Promise<void>) | undefined;
};

/** Which setting names each transport's port, for the error that says it is taken. */
const PORT_KEYS = {
  tls: 'sip.tls.port (DROUTER_SIP__TLS__PORT)',
  ws: 'sip.websocket.port (DROUTER_SIP__WEBSOCKET__PORT)',
  wss: 'sip.websocket.securePort (DROUTER_SIP__WEBSOCKET__SECURE_PORT)',
} as const;

/**
 * TLS, WebSocket and secure WebSocket, each on a port of its own (UDP and
 * TCP share sip.port): checked that it can be bound, then listening. TLS
 * and WSS share sip.tls's certificate; a reload reads it once for both.
 */
export async function openOwnPortTransports(options: OwnPortOptions): Promise<OwnPortTransports> {
  const wanted = (['tls', 'ws', 'wss'] as const).filter((transport) => options.transports.includes(transport));
  if (wanted.length === 0) return { reloadCertificates: undefined };
  if (options.workers)
    throw new DrouterError(
      'DROUTER_ERR_TLS',
      `SIP over ${wanted.join(', ')} is not available with --workers N yet: run one process per node for them (docs/engines.md "TLS")`,
    );
  const { tls, websocket } = options;
  const credentials = tls?.credentials;
  if ((wanted.includes('tls') || wanted.includes('wss')) && !credentials)
    throw new DrouterError(
      'DROUTER_ERR_TLS',
      `sip.transports has ${wanted.join(', ')} but no TLS credentials were given to the engine`,
    );
  if ((wanted.includes('ws') || wanted.includes('wss')) && !websocket)
    throw new DrouterError(
      'DROUTER_ERR_TLS',
      'sip.transports has ws or wss but no sip.websocket settings were given to the engine',
    );
  const ports = { tls: tls?.port ?? 0, ws: websocket?.port ?? 0, wss: websocket?.securePort ?? 0 };
  for (const transport of wanted) {
    try {
      await checkCanBind(options.address, ports[transport], ['tcp']);
    } catch (error) {
      throw new DrouterError(
        'DROUTER_ERR_SIP_BIND',
        `cannot listen for SIP over ${transport.toUpperCase()} on ${options.address}:${ports[transport]}: ${listenFailureReason(error)}; set ${PORT_KEYS[transport]} to a free port, or stop what holds it`,
      );
    }
  }
  const { address, limits, observer, onMessage } = options;
  const closed = (transport: Transport) => (remote: { address: string; port: number }) =>
    options.onFlowClosed(transport, remote);
  const TLS =
    credentials && wanted.includes('tls')
      ? new TcpTransport({
          local: { address, port: ports.tls },
          stream: tlsStream(credentials),
          limits,
          onMessage,
          observer,
          onFlowClosed: closed('tls'),
        })
      : undefined;
  const allowedOrigins = websocket?.allowedOrigins ?? [];
  const WS = wanted.includes('ws')
    ? new WsTransport({
        local: { address, port: ports.ws },
        limits,
        allowedOrigins,
        onMessage,
        observer,
        onFlowClosed: closed('ws'),
      })
    : undefined;
  const WSS =
    credentials && wanted.includes('wss')
      ? new WsTransport({
          local: { address, port: ports.wss },
          secure: credentials,
          limits,
          allowedOrigins,
          onMessage,
          observer,
          onFlowClosed: closed('wss'),
        })
      : undefined;
  const reloadCertificates = credentials
    ? async () => {
        await credentials.reload();
        TLS?.reloaded();
        WSS?.reloaded();
      }
    : undefined;
  return { TLS, WS, WSS, reloadCertificates };
}
