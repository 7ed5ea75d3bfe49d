import { createSocket, type RemoteInfo } from 'node:dgram';

/**
 * The runtime floor's stand-in for the proxy (bench/floor.ts): the least a
 * Node.js process must do to carry the benchmarks' traffic over `dgram`,
 * with no SIP stack. Calls are relayed without parsing (the gateway's
 * datagrams to the last phone, everything else to the gateway; sipp sends
 * every request to the address it was given, so ACK and BYE come back
 * here); a REGISTER is answered from its own header lines, 401 with a
 * fixed challenge without Authorization, 200 with it (nothing checked).
 * Usage: node floor-server.js ADDRESS PORT GATEWAY_ADDRESS GATEWAY_PORT
 */
const [address = '127.0.0.60', port = '5060', gatewayAddress = '127.0.0.2', gatewayPort = '5060'] =
  process.argv.slice(2);
const socket = createSocket('udp4');
let phone: RemoteInfo | undefined;

/** The header lines a response copies from its REGISTER (compact forms are not used by sipp). */
const COPIED = /^(via|from|to|call-id|cseq):/i;

function answerRegister(text: string, from: RemoteInfo): void {
  const lines = text.split('\r\n');
  const copied = lines
    .filter((line) => COPIED.test(line))
    .map((line) => (/^to:/i.test(line) ? `${line};tag=floor` : line));
  const authorized = lines.some((line) => /^authorization:/i.test(line));
  const head = authorized
    ? [
        'SIP/2.0 200 OK',
        ...copied,
        `Contact: ${
          lines
            .find((line) => /^contact:/i.test(line))
            ?.slice(8)
            .trim() ?? '*'
        };expires=3600`,
      ]
    : [
        'SIP/2.0 401 Unauthorized',
        ...copied,
        'WWW-Authenticate: Digest realm="floor", nonce="5f3c0a9b2d7e41c8", algorithm=MD5, qop="auth"',
      ];
  socket.send(`${head.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`, from.port, from.address);
}

socket.on('message', (datagram, from) => {
  if (from.address === gatewayAddress && from.port === Number(gatewayPort)) {
    if (phone) socket.send(datagram, phone.port, phone.address);
    return;
  }
  if (datagram.toString('latin1', 0, 9) === 'REGISTER ') {
    answerRegister(datagram.toString('latin1'), from);
    return;
  }
  phone = from;
  socket.send(datagram, Number(gatewayPort), gatewayAddress);
});
socket.on('listening', () => socket.setRecvBufferSize(8 * 1024 * 1024));
socket.bind(Number(port), address);
process.on('SIGTERM', () => socket.close(() => process.exit(0)));
