import type { Message } from 'sip';
import { detached } from '../../core/detached-string.js';
import { writeMessage } from './write-message.js';

/** RFC 3261 §17 timer values. */
const T1_MS = 500;
const T2_MS = 4000;
const T4_MS = 5000;
/** Timers H, J and L (RFC 6026): 64·T1. */
const LINGER_MS = 64 * T1_MS;

/** Where a transaction's responses go: the connection (or UDP peer) the request came from. */
export interface ResponseLink {
  /** Over TCP the connection stays; over UDP retransmissions are ours to make. */
  readonly reliable: boolean;
  sendText(text: string): void;
}

/** A server transaction as an exchange uses it. */
export interface ServerTransaction {
  send(response: Message): void;
  /** A response already written (a relayed one, spliced): its status and text. */
  sendText(status: number, text: string): void;
}

type State =
  /** Provisionals (or nothing) sent: a retransmitted request gets the last one again. */
  | 'proceeding'
  /** INVITE answered with 2xx (RFC 6026 Accepted): retransmitted INVITEs are absorbed, further 2xx pass. */
  | 'accepted'
  /** A final sent (INVITE: ≥300, awaiting the ACK): a retransmitted request gets it again. */
  | 'completed'
  /** INVITE non-2xx ACKed: ACK retransmissions absorbed until timer I. */
  | 'confirmed';

interface Entry {
  readonly invite: boolean;
  readonly link: ResponseLink;
  state: State;
  /** The last response, as sent: a retransmitted request gets these bytes again. */
  lastText: string | undefined;
  retransmit: NodeJS.Timeout | undefined;
}

/**
 * The server transactions (RFC 3261 §17.2, RFC 6026), keyed as the `sip`
 * package keys them (CSeq method, Call-ID, top Via branch; an ACK finds its
 * INVITE). Each keeps the last response as text, not the parsed request and
 * response: at 1 500 calls/s some 100 000 are alive at once (timers H, J, L
 * are 32 s), and parsed messages were most of the proxy's heap.
 */
export class ServerTransactions {
  private readonly entries = new Map<string, Entry>();
  /** Transactions waiting out a timer, in the order they end: one sweep, not a timer each. */
  private readonly ending: { at: number; key: string; entry: Entry }[] = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.sweeper = setInterval(() => this.sweep(), 250);
    this.sweeper.unref();
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * A request that belongs to a transaction is handled here (retransmission
   * answered, ACK absorbed): true. Otherwise false, and the caller starts one
   * (or forwards the ACK of a 2xx, which is a transaction of its own).
   */
  absorb(request: Message): boolean {
    const entry = this.entries.get(keyOf(request));
    if (!entry) return false;
    if (request.method === 'ACK') {
      if (entry.state === 'completed') this.confirm(keyOf(request), entry);
      // An ACK for an accepted INVITE is the 2xx's: not ours (RFC 6026 §7.1).
      return entry.state !== 'accepted';
    }
    if (entry.state !== 'accepted' && entry.lastText !== undefined) entry.link.sendText(entry.lastText);
    return true;
  }

  create(request: Message, link: ResponseLink): ServerTransaction {
    // Kept 32 s: a copy, not a view of the datagram it was read from.
    const key = detached(keyOf(request));
    const entry: Entry = {
      invite: request.method === 'INVITE',
      link,
      state: 'proceeding',
      lastText: undefined,
      retransmit: undefined,
    };
    this.entries.set(key, entry);
    return {
      send: (response) => this.respond(key, entry, response.status ?? 0, writeMessage(response)),
      sendText: (status, text) => this.respond(key, entry, status, text),
    };
  }

  destroy(): void {
    clearInterval(this.sweeper);
    for (const entry of this.entries.values()) clearTimeout(entry.retransmit);
    this.entries.clear();
    this.ending.length = 0;
  }

  private respond(key: string, entry: Entry, status: number, text: string): void {
    entry.link.sendText(text);
    if (entry.state === 'accepted' || entry.state === 'confirmed' || (entry.state === 'completed' && !entry.invite))
      return;
    entry.lastText = text;
    if (status < 200) return;
    if (entry.invite && status < 300) {
      entry.state = 'accepted';
      entry.lastText = undefined;
      this.endIn(key, entry, LINGER_MS);
      return;
    }
    entry.state = 'completed';
    if (!entry.invite) {
      // Timer J: only an unreliable transport retransmits requests to absorb.
      this.endIn(key, entry, entry.link.reliable ? 0 : LINGER_MS);
      return;
    }
    // Timer G until the ACK, timer H at most.
    if (!entry.link.reliable) this.retransmitFinal(entry, T1_MS);
    this.endIn(key, entry, LINGER_MS);
  }

  private retransmitFinal(entry: Entry, intervalMs: number): void {
    entry.retransmit = setTimeout(() => {
      if (entry.state !== 'completed' || entry.lastText === undefined) return;
      entry.link.sendText(entry.lastText);
      this.retransmitFinal(entry, Math.min(intervalMs * 2, T2_MS));
    }, intervalMs);
    entry.retransmit.unref();
  }

  private confirm(key: string, entry: Entry): void {
    entry.state = 'confirmed';
    entry.lastText = undefined;
    clearTimeout(entry.retransmit);
    // Timer I: ACK retransmissions come only over UDP.
    this.endIn(key, entry, entry.link.reliable ? 0 : T4_MS);
  }

  private endIn(key: string, entry: Entry, ms: number): void {
    if (ms === 0) {
      this.end(key, entry);
      return;
    }
    const at = this.now() + ms;
    // Deadlines of one length arrive in order; a shorter one (timer I) may pass a longer one and just waits for the sweep to reach it.
    this.ending.push({ at, key, entry });
  }

  private sweep(): void {
    const now = this.now();
    let done = 0;
    while (done < this.ending.length && (this.ending[done]?.at ?? Infinity) <= now) {
      const item = this.ending[done];
      if (item) this.end(item.key, item.entry);
      done++;
    }
    if (done > 0) this.ending.splice(0, done);
  }

  private end(key: string, entry: Entry): void {
    clearTimeout(entry.retransmit);
    // A later transaction may have taken the key (a client reusing a branch): leave it.
    if (this.entries.get(key) === entry) this.entries.delete(key);
  }
}

function keyOf(request: Message): string {
  const method = request.method === 'ACK' ? 'INVITE' : (request.headers.cseq?.method ?? request.method ?? '');
  return `${method}|${request.headers['call-id'] ?? ''}|${request.headers.via?.[0]?.params.branch ?? ''}`;
}
