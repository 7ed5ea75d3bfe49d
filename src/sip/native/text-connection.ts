import type sip from 'sip';
import type { ResponseLink } from './server-transactions.js';
import { writeMessage } from './write-message.js';

/** A connection that can also send text already serialized (a server transaction's stored response): what every transport's `open` gives. */
export type TextConnection = sip.Connection & ResponseLink;

/** A connection-oriented transport's connection (TCP, TLS, WS, WSS) as the engine uses it, over a way to write text. */
export function streamConnection(protocol: string, sendText: (text: string) => void): TextConnection {
  return {
    protocol,
    reliable: true,
    send: (message) => sendText(writeMessage(message)),
    sendText,
    release: () => undefined,
  };
}
