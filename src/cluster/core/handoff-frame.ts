import type { Transport } from '../../sip/engine.js';

/**
 * What one worker hands another over the loopback hand-off socket, as one
 * datagram: a line `SIPDR1 KIND TRANSPORT ADDRESS PORT` and the message's
 * bytes as they were (latin1 text, as the transports hold them).
 *
 * - `receive`: a message read from the SIP socket (or a TCP connection)
 *   from ADDRESS:PORT that the other worker owns; it handles it as if it
 *   had read it itself, and answers through the shared SIP socket.
 * - `send`: a message for the TCP connection to ADDRESS:PORT, which the
 *   other worker accepted and holds.
 */
export interface HandoffFrame {
  kind: 'receive' | 'send';
  transport: Transport;
  /** Where the message came from (`receive`) or goes to (`send`). */
  remote: { address: string; port: number };
  text: string;
}

const MAGIC = 'SIPDR1';
/** The head line is short; a longer one is not a frame of ours. */
const MAX_HEAD_CHARS = 80;

export function encodeFrame(frame: HandoffFrame): Buffer {
  const kind = frame.kind === 'receive' ? 'r' : 's';
  return Buffer.from(
    `${MAGIC} ${kind} ${frame.transport} ${frame.remote.address} ${frame.remote.port}\n${frame.text}`,
    'latin1',
  );
}

/** The frame in a datagram, or undefined when it is not one (anything may arrive on a socket). */
export function decodeFrame(data: Buffer): HandoffFrame | undefined {
  const newline = data.indexOf(10);
  if (newline < 0 || newline > MAX_HEAD_CHARS) return undefined;
  const [magic, kind, transport, address, portText] = data.toString('latin1', 0, newline).split(' ');
  if (magic !== MAGIC || (kind !== 'r' && kind !== 's') || (transport !== 'udp' && transport !== 'tcp') || !address)
    return undefined;
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return {
    kind: kind === 'r' ? 'receive' : 'send',
    transport,
    remote: { address, port },
    text: data.toString('latin1', newline + 1),
  };
}
