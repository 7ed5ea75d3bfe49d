import type sip from 'sip';
import type { UdpTransport } from './udp-transport.js';

/** UDP through our transport, TCP through the package's, behind the package's transport interface. */
export function combinedTransport(udp: UdpTransport | undefined, tcp: sip.Transport | undefined): sip.Transport {
  const pick = (protocol: string) => {
    const isUdp = protocol.toUpperCase() === 'UDP';
    if (isUdp && udp) return { udp };
    if (!isUdp && tcp) return { tcp };
    throw new Error(`no ${protocol} transport: sip.transports does not include it`);
  };
  return {
    open(target, onError) {
      const chosen = pick(target.protocol);
      return chosen.udp ? chosen.udp.open(target) : chosen.tcp.open(target, onError);
    },
    get(remote, onError) {
      const chosen = pick(remote.protocol);
      return chosen.udp ? chosen.udp.open(remote) : chosen.tcp.get(remote, onError);
    },
    destroy() {
      udp?.close();
      tcp?.destroy();
    },
  };
}
