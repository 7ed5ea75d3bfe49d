/**
 * Which worker of a cluster must handle a SIP message, read from its raw
 * text without parsing it (every datagram passes here, so it must cost
 * about as little as finding one header).
 *
 * - A response belongs to the worker that sent the request: our branches
 *   carry the worker's number (`z9hG4bK-w2-…`), and a response's top Via
 *   is ours (RFC 3261 §18.2.2 sends it back to the Via we wrote).
 * - A request belongs to hash(top Via branch) mod N: its retransmissions,
 *   its CANCEL (RFC 3261 §9.1) and the ACK of a non-2xx final (§17.1.1.3)
 *   share that branch, so they reach the worker holding the transaction.
 *   A 2xx ACK or an in-dialog request has a branch of its own and is fine
 *   anywhere, and hashing it spreads the load.
 *
 * Workers are numbered 1 to N.
 */

/** RFC 3261 §8.1.1.7: every branch of ours starts with the magic cookie. */
export const BRANCH_COOKIE = 'z9hG4bK';
const WORKER_MARK = `${BRANCH_COOKIE}-w`;
/** Workers are numbered with at most this many digits (--workers is at most 64). */
const MAX_INDEX_DIGITS = 3;

/** The start of every branch worker `index` makes: `z9hG4bK-w2-`, then random hex. */
export function workerBranchPrefix(index: number): string {
  return `${WORKER_MARK}${index}-`;
}

/** The worker whose branch this is, or undefined for a branch no worker made. */
export function workerOfBranch(branch: string): number | undefined {
  if (!branch.startsWith(WORKER_MARK)) return undefined;
  const end = branch.indexOf('-', WORKER_MARK.length);
  if (end <= WORKER_MARK.length || end > WORKER_MARK.length + MAX_INDEX_DIGITS) return undefined;
  let index = 0;
  for (let at = WORKER_MARK.length; at < end; at++) {
    const digit = branch.charCodeAt(at) - 48;
    if (digit < 0 || digit > 9) return undefined;
    index = index * 10 + digit;
  }
  return index;
}

/** `Via:` or the compact `v:` (RFC 3261 §7.3.3), any case, blanks before the colon. */
const VIA_NAME = /^(?:via|v)[ \t]*:/i;
/** The branch parameter of one Via value (parameter names are case-insensitive, RFC 3261 §20.42). */
const BRANCH_PARAM = /;[ \t]*branch[ \t]*=[ \t]*([^;,\s]+)/i;

/**
 * The branch of the top Via of a message's text, or undefined when the
 * message has no Via with a branch before the end of its headers. Only the
 * first value of the first Via header counts (`Via: a;branch=x, b` is x);
 * a folded header (continuation lines, RFC 3261 §7.3.1) is read whole.
 */
export function topViaBranch(text: string): string | undefined {
  let start = text.indexOf('\n') + 1;
  while (start > 0 && start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const first = text.charCodeAt(start);
    // An empty line ends the headers.
    if (first === 13 || first === 10) return undefined;
    if ((first === 86 || first === 118) && VIA_NAME.test(text.slice(start, Math.min(end, start + 8)))) {
      let value = text.slice(text.indexOf(':', start) + 1, end);
      // Continuation lines start with a blank.
      while (end + 1 < text.length && (text.charCodeAt(end + 1) === 32 || text.charCodeAt(end + 1) === 9)) {
        const next = text.indexOf('\n', end + 1);
        const lineEnd = next < 0 ? text.length : next;
        value += text.slice(end + 1, lineEnd);
        end = lineEnd;
      }
      const comma = value.indexOf(',');
      return BRANCH_PARAM.exec(comma < 0 ? value : value.slice(0, comma))?.[1];
    }
    start = end + 1;
  }
  return undefined;
}

/** 32-bit FNV-1a: cheap, and spreads random branch strings evenly. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let at = 0; at < text.length; at++) {
    hash ^= text.charCodeAt(at);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export type OwnedKind = 'request' | 'response';

export interface Ownership {
  kind: OwnedKind;
  /** The worker, 1 to `count`. */
  owner: number;
}

/**
 * The worker of `count` that must handle the message, or undefined when
 * any worker may (no top Via branch; a response to a branch no worker
 * made, which the engine drops wherever it lands).
 */
export function ownerOf(text: string, count: number): Ownership | undefined {
  const branch = topViaBranch(text);
  if (branch === undefined) return undefined;
  if (text.startsWith('SIP/')) {
    const owner = workerOfBranch(branch);
    return owner !== undefined && owner >= 1 && owner <= count ? { kind: 'response', owner } : undefined;
  }
  return { kind: 'request', owner: (fnv1a(branch) % count) + 1 };
}
