import type sip from 'sip';
import type { TcpTransport } from './tcp-transport.js';
import type { TextConnection } from './text-connection.js';
import type { UdpTransport } from './udp-transport.js';
import type { WsTransport } from './ws-transport.js';

export interface NativeTransport {
  open(target: { protocol: string; address: string; port: number }, onError?: (error: Error) => void): TextConnection;
  get(remote: sip.Remote): TextConnection | undefined;
  /** Sends text to a target over its protocol, opening a TCP or TLS connection when there is none; `onError` hears if that connection fails. */
  sendText(
    target: { protocol: string; address: string; port: number },
    text: string,
    onError?: (error: Error) => void,
  ): void;
  destroy(): void;
}

/** The transports listened on, by the protocol name a Via or a connection gives them. */
export interface Transports {
  UDP?: UdpTransport;
  TCP?: TcpTransport;
  TLS?: TcpTransport;
  WS?: WsTransport;
  WSS?: WsTransport;
}

/** Our transports behind one interface, picked by the target's protocol. */
export function combinedTransport(transports: Transports): NativeTransport {
  const pick = (protocol: string): UdpTransport | TcpTransport | WsTransport => {
    const chosen = transports[protocol.toUpperCase() as keyof Transports];
    if (!chosen) throw new Error(`no ${protocol} transport: sip.transports does not include it`);
    return chosen;
  };
  return {
    open: (target) => pick(target.protocol).open(target),
    get: (remote) => pick(remote.protocol).open(remote),
    sendText(target, text, onError) {
      const chosen = pick(target.protocol);
      if (chosen === transports.UDP) transports.UDP.sendTo(text, target);
      else chosen.open(target, onError).sendText(text);
    },
    destroy() {
      for (const transport of Object.values(transports) as ({ close(): void } | undefined)[]) transport?.close();
    },
  };
}
