import { once } from 'node:events';
import { createConnection } from 'node:net';
import { connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { TcpPeer } from './tcp-peer.js';
import type { IssuedCertificate } from './test-certificates.js';

/** A handshake on loopback takes milliseconds: one not done in this is not coming. */
const HANDSHAKE_TIMEOUT_MS = 3000;

export interface TlsPeerOptions {
  /** The CA certificates (PEM) the server's certificate must chain to; without them Node's default CAs. */
  ca?: string;
  /** The peer's own certificate and key, for a server that asks for one. */
  certificate?: IssuedCertificate;
}

/** A SIP peer over one TLS connection from its own 127.0.0.N: TcpPeer's sends and receives, over TLS. */
export class TlsPeer extends TcpPeer {
  private constructor(private readonly tlsSocket: TLSSocket) {
    super(tlsSocket);
  }

  /**
   * Connected once the handshake is done as far as the client sees it. The server's certificate is checked
   * against `ca` and `to.address` (its IP subjectAltNames). Rejects when the handshake fails; a server that
   * refuses the client's certificate may only say so after this (TLS 1.3 sends the verdict after the
   * client's Finished), by an alert and a close: see `closed()` and `errors`.
   */
  static override async connect(
    localAddress: string,
    to: { address: string; port: number },
    options: TlsPeerOptions = {},
  ): Promise<TlsPeer> {
    // The TCP connection made first: Node's TLS options have no local address to connect from.
    const socket = connect({
      socket: createConnection({ host: to.address, port: to.port, localAddress }),
      host: to.address,
      ca: options.ca,
      cert: options.certificate?.certificate,
      key: options.certificate?.key,
    });
    try {
      await once(socket, 'secureConnect', { signal: AbortSignal.timeout(HANDSHAKE_TIMEOUT_MS) });
    } catch (error) {
      socket.destroy();
      throw error;
    }
    return new TlsPeer(socket);
  }

  /** The certificate the server presented on this connection. */
  get serverCertificate(): PeerCertificate {
    return this.tlsSocket.getPeerCertificate();
  }
}
