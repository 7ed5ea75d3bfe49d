import { once } from 'node:events';
import {
  EmitterImpl,
  type Invitation,
  Inviter,
  Registerer,
  RegistererState,
  SessionState,
  type URI,
  type SessionDescriptionHandler,
  type Transport,
  TransportState,
  UserAgent,
} from 'sip.js';
import WebSocket from 'ws';
import { waitFor } from './wait-for.js';

/** How long SIP.js's stop may take once the connection is closed: it ends at once unless a call was up. */
const STOP_GRACE_MS = 500;

/** Where a Node phone's WebSocket goes from: its own 127.0.0.N, and the Origin its "page" sends. */
interface WsTransportOptions {
  server: string;
  localAddress: string;
  origin: string;
  ca?: string;
}

/**
 * SIP.js's transport port (its api/transport.ts) over the `ws` package:
 * Node 20 has no global WebSocket, and SIP.js's web transport cannot bind a
 * local address or send an Origin. One connection asking for the `sip`
 * subprotocol, one SIP message per WebSocket message (RFC 7118).
 */
class NodeWsTransport implements Transport {
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: Error) => void) | undefined;
  onMessage: ((message: string) => void) | undefined;
  private socket: WebSocket | undefined;
  private current = TransportState.Disconnected;
  private readonly changes = new EmitterImpl<TransportState>();

  constructor(
    _logger: unknown,
    private readonly options: WsTransportOptions,
  ) {}

  get protocol(): string {
    return this.options.server.startsWith('wss:') ? 'WSS' : 'WS';
  }

  get state(): TransportState {
    return this.current;
  }

  get stateChange(): EmitterImpl<TransportState> {
    return this.changes;
  }

  /** The local port of the connection, as the proxy sees its source. */
  get localPort(): number | undefined {
    return (this.socket as unknown as { _socket?: { localPort?: number } } | undefined)?._socket?.localPort;
  }

  async connect(): Promise<void> {
    this.become(TransportState.Connecting);
    const { server, localAddress, origin, ca } = this.options;
    const socket = new WebSocket(server, 'sip', { localAddress, origin, ...(ca ? { ca } : {}) });
    socket.on('message', (data: Buffer) => this.onMessage?.(data.toString('utf8')));
    socket.on('error', () => undefined);
    try {
      await Promise.race([
        once(socket, 'open'),
        once(socket, 'close').then(() =>
          Promise.reject(new Error(`the WebSocket to ${server} closed before it opened`)),
        ),
      ]);
    } catch (error) {
      this.become(TransportState.Disconnected);
      throw error;
    }
    this.socket = socket;
    socket.on('close', () => {
      this.become(TransportState.Disconnected);
      this.onDisconnect?.(new Error('the connection closed'));
    });
    this.become(TransportState.Connected);
    this.onConnect?.();
  }

  async disconnect(): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    this.become(TransportState.Disconnecting);
    const closed = once(socket, 'close');
    socket.close();
    await closed;
  }

  async dispose(): Promise<void> {
    await this.disconnect();
  }

  isConnected(): boolean {
    return this.current === TransportState.Connected;
  }

  async send(message: string): Promise<void> {
    if (!this.socket || !this.isConnected()) throw new Error('not connected');
    this.socket.send(message);
  }

  private become(state: TransportState): void {
    if (state === this.current) return;
    this.current = state;
    this.changes.emit(state);
  }
}

/**
 * SIP.js's media handler replaced by a plain audio offer and answer at the
 * phone's address: a Node phone has no WebRTC, and the proxy reads no body.
 */
function plainAudioAt(address: string): () => SessionDescriptionHandler {
  const body = `v=0\r\no=- 1 1 IN IP4 ${address}\r\ns=-\r\nc=IN IP4 ${address}\r\nt=0 0\r\nm=audio 4002 RTP/AVP 0\r\n`;
  return () => ({
    close: () => undefined,
    getDescription: async () => ({ body, contentType: 'application/sdp' }),
    hasDescription: (contentType: string) => contentType === 'application/sdp',
    setDescription: async () => undefined,
    sendDtmf: () => false,
  });
}

/**
 * SIP.js's UserAgent and Registerer in Node, over `ws` from `localAddress`:
 * the browser library's own SIP stack (transactions, digest, dialogs)
 * without a browser.
 */
export class SipJsNodePhone {
  private constructor(
    private readonly userAgent: UserAgent,
    private readonly transport: NodeWsTransport,
    private readonly registerer: Registerer,
    /** The calls offered to it, as SIP.js's onInvite handed them over. */
    private readonly invitations: Invitation[],
  ) {}

  /** Connects, registers `user` with digest and resolves once the registrar said 200 (within `timeoutMs`). */
  static async register(
    options: WsTransportOptions & { user: string; password: string; domain: string; timeoutMs: number },
  ): Promise<SipJsNodePhone> {
    const invitations: Invitation[] = [];
    const userAgent = new UserAgent({
      uri: UserAgent.makeURI(`sip:${options.user}@${options.domain}`),
      transportConstructor: NodeWsTransport,
      transportOptions: {
        server: options.server,
        localAddress: options.localAddress,
        origin: options.origin,
        ca: options.ca,
      },
      authorizationUsername: options.user,
      authorizationPassword: options.password,
      // Its errors once the test closed the connection (resending a 200 nobody acknowledged) are expected: not printed.
      logBuiltinEnabled: false,
      sessionDescriptionHandlerFactory: plainAudioAt(options.localAddress),
      delegate: { onInvite: (invitation) => void invitations.push(invitation) },
    });
    await userAgent.start();
    const registerer = new Registerer(userAgent, { expires: 600 });
    const phone = new SipJsNodePhone(userAgent, userAgent.transport as NodeWsTransport, registerer, invitations);
    await registerer.register();
    await waitFor(`${options.user} registered by SIP.js over ${options.server}`, options.timeoutMs, () =>
      registerer.state === RegistererState.Registered ? true : undefined,
    );
    return phone;
  }

  get localPort(): number | undefined {
    return this.transport.localPort;
  }

  /** Calls `target` (SIP.js answers the proxy's 407) and resolves once the call is up, within `timeoutMs`. */
  async call(target: string, timeoutMs: number): Promise<Inviter> {
    const inviter = new Inviter(this.userAgent, UserAgent.makeURI(target) as URI);
    await inviter.invite();
    await waitFor(`the SIP.js phone's call to ${target} up`, timeoutMs, () =>
      inviter.state === SessionState.Established ? true : undefined,
    );
    return inviter;
  }

  /** The first call offered to it, within `timeoutMs`. */
  invitation(timeoutMs: number): Promise<Invitation> {
    return waitFor('an INVITE at the SIP.js phone', timeoutMs, () => this.invitations[0]);
  }

  /**
   * Unregisters (REGISTER with Expires 0), closes its connection and stops.
   * SIP.js would end a call still up with a BYE first and wait for its
   * answer (or, as a callee, for the ACK before it: RFC 3261 §15); with the
   * connection gone it cannot: the stop waits STOP_GRACE_MS for it, the
   * unregistration `timeoutMs`.
   */
  async stop(timeoutMs: number): Promise<void> {
    try {
      await this.registerer.unregister();
      await waitFor('the SIP.js phone unregistered', timeoutMs, () =>
        this.registerer.state === RegistererState.Unregistered ? true : undefined,
      );
    } finally {
      await this.transport.dispose();
      await Promise.race([this.userAgent.stop(), new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref())]);
    }
  }
}
