import type { Message } from 'sip';
import { detached } from '../../core/detached-string.js';
import { writeMessage } from './write-message.js';
import {
  initialServerState,
  retransmitsFinal,
  type ServerEvent,
  type ServerState,
  serverStep,
  serverTimerMs,
} from '../core/server-transaction.js';
import { doubledUpToT2Ms, T1_MS } from '../core/timers.js';

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

const REQUEST: ServerEvent = { kind: 'request' };
const ACK: ServerEvent = { kind: 'ack' };
const TIMER: ServerEvent = { kind: 'timer' };

interface Entry {
  readonly invite: boolean;
  readonly link: ResponseLink;
  state: ServerState;
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
    const key = keyOf(request);
    const entry = this.entries.get(key);
    if (!entry) return false;
    return this.step(key, entry, request.method === 'ACK' ? ACK : REQUEST);
  }

  create(request: Message, link: ResponseLink): ServerTransaction {
    // Kept 32 s: a copy, not a view of the datagram it was read from.
    const key = detached(keyOf(request));
    const invite = request.method === 'INVITE';
    const entry: Entry = {
      invite,
      link,
      state: initialServerState(invite),
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
    this.step(key, entry, { kind: 'response', status }, text);
  }

  /**
   * The one place a transaction changes: the step's effects, then, when the
   * state changed, the old state's timer G cleared and the new state's
   * armed. True when the message was the transaction's (absorbed).
   */
  private step(key: string, entry: Entry, event: ServerEvent, text?: string): boolean {
    const from = entry.state;
    const { to, effects } = serverStep(entry.invite, from, event);
    entry.state = to;
    let ours = true;
    for (const effect of effects) {
      switch (effect) {
        case 'send':
          if (text !== undefined) entry.link.sendText(text);
          break;
        case 'keep':
          entry.lastText = text;
          break;
        case 'drop':
          entry.lastText = undefined;
          break;
        case 'resend':
          if (entry.lastText !== undefined) entry.link.sendText(entry.lastText);
          break;
        case 'not-ours':
          ours = false;
          break;
      }
    }
    if (to !== from) this.enter(key, entry);
    return ours;
  }

  private enter(key: string, entry: Entry): void {
    clearTimeout(entry.retransmit);
    entry.retransmit = undefined;
    if (entry.state === 'Terminated') {
      // A later transaction may have taken the key (a client reusing a branch): leave it.
      if (this.entries.get(key) === entry) this.entries.delete(key);
      return;
    }
    if (retransmitsFinal(entry.invite, entry.state, entry.link.reliable)) this.retransmitFinal(entry, T1_MS);
    const ms = serverTimerMs(entry.invite, entry.state, entry.link.reliable);
    if (ms === undefined) return;
    if (ms === 0) {
      this.step(key, entry, TIMER);
      return;
    }
    // Deadlines of one length arrive in order; a shorter one (timer I) may pass a longer one and just waits for the sweep to reach it.
    this.ending.push({ at: this.now() + ms, key, entry });
  }

  /** Timer G: the final again, at T1 doubling up to T2, while Completed. */
  private retransmitFinal(entry: Entry, intervalMs: number): void {
    entry.retransmit = setTimeout(() => {
      if (entry.state !== 'Completed' || entry.lastText === undefined) return;
      entry.link.sendText(entry.lastText);
      this.retransmitFinal(entry, doubledUpToT2Ms(intervalMs));
    }, intervalMs);
    entry.retransmit.unref();
  }

  private sweep(): void {
    const now = this.now();
    let done = 0;
    while (done < this.ending.length && (this.ending[done]?.at ?? Infinity) <= now) {
      const item = this.ending[done];
      if (item) this.step(item.key, item.entry, TIMER);
      done++;
    }
    if (done > 0) this.ending.splice(0, done);
  }
}

function keyOf(request: Message): string {
  const method = request.method === 'ACK' ? 'INVITE' : (request.headers.cseq?.method ?? request.method ?? '');
  return `${method}|${request.headers['call-id'] ?? ''}|${request.headers.via?.[0]?.params.branch ?? ''}`;
}
