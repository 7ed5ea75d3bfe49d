import type sip from 'sip';
import type { TcpTransport } from './tcp-transport.js';
import type { UdpTransport } from './udp-transport.js';

/** Our UDP and TCP transports behind the `sip` package's transport interface (its transaction layer wants one). */
export function combinedTransport(udp: UdpTransport | undefined, tcp: TcpTransport | undefined): sip.Transport {
  const pick = (protocol: string): UdpTransport | TcpTransport => {
    const chosen = protocol.toUpperCase() === 'UDP' ? udp : tcp;
    if (!chosen) throw new Error(`no ${protocol} transport: sip.transports does not include it`);
    return chosen;
  };
  return {
    open: (target) => pick(target.protocol).open(target),
    get: (remote) => pick(remote.protocol).open(remote),
    destroy() {
      udp?.close();
      tcp?.close();
    },
  };
}
