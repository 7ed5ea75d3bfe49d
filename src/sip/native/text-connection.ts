import type sip from 'sip';
import type { ResponseLink } from './server-transactions.js';

/** A connection that can also send text already serialized (a server transaction's stored response): what every transport's `open` gives. */
export type TextConnection = sip.Connection & ResponseLink;
