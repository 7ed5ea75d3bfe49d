import type sip from 'sip';
import type { ResponseLink } from './server-transactions.js';
import type { TcpTransport } from './tcp-transport.js';
import type { UdpTransport } from './udp-transport.js';

/** A connection that can also send text already serialized (a server transaction's stored response). */
export type TextConnection = sip.Connection & ResponseLink;

export interface NativeTransport {
  open(target: { protocol: string; address: string; port: number }, onError?: (error: Error) => void): TextConnection;
  get(remote: sip.Remote): TextConnection | undefined;
  /** Sends text to a target over its protocol, opening a TCP connection when there is none. */
  sendText(target: { protocol: string; address: string; port: number }, text: string): void;
  destroy(): void;
}

/** Our UDP, TCP and TLS transports behind one interface, picked by the target's protocol. */
export function combinedTransport(udp: UdpTransport | undefined, tcp: TcpTransport | undefined, tls: TcpTransport | undefined): NativeTransport {
  const pick = (protocol: string): UdpTransport | TcpTransport => {
    const upper = protocol.toUpperCase();
    const chosen = upper === 'UDP' ? udp : upper === 'TLS' ? tls : tcp;
    if (!chosen) throw new Error(`no ${protocol} transport: sip.transports does not include it`);
    return chosen;
  };
  return {
    open: (target) => pick(target.protocol).open(target),
    get: (remote) => pick(remote.protocol).open(remote),
    sendText(target, text) {
      const chosen = pick(target.protocol);
      if (chosen === udp) udp.sendTo(text, target);
      else chosen.open(target).sendText(text);
    },
    destroy() {
      udp?.close();
      tcp?.close();
      tls?.close();
    },
  };
}
