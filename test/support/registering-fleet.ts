import { Redis } from 'ioredis';
import { cacheKeys } from '../../src/cache/keys.js';
import { challengesOf, RegisteringPhone, statusOf } from './registering-phone.js';
import { UdpPeer } from './udp-peer.js';

/** A sippeers user of the fleet: its name and secret. */
export interface FleetUser {
  name: string;
  password: string;
}

/** One REGISTER exchange of the fleet (the 401 and the REGISTER with credentials), as the phone saw it. */
export interface RegisterOutcome {
  user: string;
  /** Which of the fleet's proxies it went to. */
  proxy: number;
  /** The CSeq of the REGISTER that got the final answer (the one with credentials, after a 401). */
  cseq: number;
  sentAt: number;
  answeredAt: number;
  /** The final status; undefined: none within 7.5 s (the request sent four times, as a phone retransmits). */
  status: number | undefined;
  /** The Retry-After of a 503, as sent. */
  retryAfter: string | undefined;
}

/** What the phones saw of an outage that began at `killedAt` (epoch ms), from the outcomes. */
export interface OutageFigures {
  registers: number;
  acknowledged: number;
  refused503: number;
  /** 503s without Retry-After (must be 0). */
  refused503WithoutRetryAfter: number;
  /** Answered anything but 200 and 503 (401 after credentials, 500), or not at all (RegisterOutcome.status). */
  otherOrUnanswered: number;
  /** From the first 503's answer to the last's; 0 without any. */
  seconds503: number;
  /** From `killedAt` to the first 200 to a REGISTER sent after it; undefined: none came. */
  killToFirst200Seconds: number | undefined;
}

const seconds = (ms: number) => Math.round(ms) / 1000;

export function outageFigures(outcomes: readonly RegisterOutcome[], killedAt: number): OutageFigures {
  const refused = outcomes.filter((outcome) => outcome.status === 503);
  const firstOkAfter = outcomes
    .filter((outcome) => outcome.status === 200 && outcome.sentAt > killedAt)
    .sort((a, b) => a.answeredAt - b.answeredAt)[0];
  const answers503 = refused.map((outcome) => outcome.answeredAt);
  return {
    registers: outcomes.length,
    acknowledged: outcomes.filter((outcome) => outcome.status === 200).length,
    refused503: refused.length,
    refused503WithoutRetryAfter: refused.filter((outcome) => outcome.retryAfter === undefined).length,
    otherOrUnanswered: outcomes.filter((outcome) => outcome.status !== 200 && outcome.status !== 503).length,
    seconds503: refused.length === 0 ? 0 : seconds(Math.max(...answers503) - Math.min(...answers503)),
    killToFirst200Seconds: firstOkAfter ? seconds(firstOkAfter.answeredAt - killedAt) : undefined,
  };
}

/**
 * Phones registering with digest in turn, each user on a UDP socket of its
 * own at `address` (its contact `sip:USER@address:PORT`, the same at each
 * REGISTER, one Call-ID per phone and a CSeq going up), user i through
 * proxy i mod the number of proxies. It records every exchange, so that a
 * test can ask which REGISTERs were acknowledged and check their bindings
 * afterwards. Bounded: run() stops at a count or a time, whichever first.
 */
export class RegisteringFleet {
  readonly outcomes: RegisterOutcome[] = [];
  private readonly busy = new Set<string>();

  private constructor(
    private readonly users: readonly FleetUser[],
    private readonly phones: ReadonlyMap<string, RegisteringPhone>,
    private readonly proxies: readonly { address: string; port: number }[],
  ) {}

  static async start(
    address: string,
    users: readonly FleetUser[],
    proxies: readonly { address: string; port: number }[],
  ): Promise<RegisteringFleet> {
    const phones = new Map<string, RegisteringPhone>();
    for (const [index, user] of users.entries()) {
      const proxy = proxies[index % proxies.length];
      if (!proxy) throw new Error('a fleet needs a proxy to register through');
      phones.set(user.name, new RegisteringPhone(await UdpPeer.bind(address), proxy));
    }
    return new RegisteringFleet(users, phones, proxies);
  }

  /** The phone's own contact: what its binding must hold. */
  contactOf(user: string): string {
    const { address, port } = this.phone(user).peer.address;
    return `sip:${user}@${address}:${port}`;
  }

  /** The phone's socket: a call to the user arrives there. */
  peerOf(user: string): UdpPeer {
    return this.phone(user).peer;
  }

  /**
   * REGISTERs, user after user round the fleet, one begun every
   * 1000/`perSecond` ms (a user whose last exchange is still going is passed
   * over), until `maxRegisters` have begun, `maxMs` have passed or `stop()`
   * says so; resolves when the last one begun has ended.
   */
  async run(options: { perSecond: number; maxRegisters: number; maxMs: number; stop?: () => boolean }): Promise<void> {
    const started = Date.now();
    const gapMs = 1000 / options.perSecond;
    const going: Promise<void>[] = [];
    for (
      let begun = 0, next = 0;
      begun < options.maxRegisters && Date.now() - started < options.maxMs && !options.stop?.();
      next++
    ) {
      const index = next % this.users.length;
      const user = this.users[index];
      if (user && !this.busy.has(user.name)) {
        begun++;
        going.push(this.register(user, index % this.proxies.length));
      }
      const due = started + begun * gapMs;
      // Every user busy (answers slow to come): a short sleep at the end of the round, not a spin.
      const waitMs = due > Date.now() ? due - Date.now() : index === this.users.length - 1 ? 5 : 0;
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
    await Promise.all(going);
  }

  /**
   * The fleet under load through a failure: REGISTERs at `perSecond` (and
   * `alongside`, another load given the same stop), `kill` after
   * `killAfterMs`, then on until REGISTERs sent after the kill have been
   * acknowledged for `settleMs`, or for `maxMsAfterKill` at the most.
   * Resolves with the time of the kill (epoch ms) once every load ended.
   */
  async registerThroughKill(options: {
    perSecond: number;
    killAfterMs: number;
    kill: () => Promise<void>;
    settleMs: number;
    maxMsAfterKill: number;
    alongside?: (stopped: () => boolean) => Promise<void>;
  }): Promise<number> {
    let stopping = false;
    const stopped = () => stopping;
    const maxMs = options.killAfterMs + options.maxMsAfterKill + 5000;
    const loads = [
      this.run({
        perSecond: options.perSecond,
        maxRegisters: Math.ceil((options.perSecond * maxMs) / 1000),
        maxMs,
        stop: stopped,
      }),
      options.alongside?.(stopped) ?? Promise.resolve(),
    ];
    let killedAt = Number.POSITIVE_INFINITY;
    try {
      await new Promise((resolve) => setTimeout(resolve, options.killAfterMs));
      await options.kill();
      killedAt = Date.now();
      while (Date.now() - killedAt < options.maxMsAfterKill) {
        const firstOk = this.outcomes
          .filter((outcome) => outcome.status === 200 && outcome.sentAt > killedAt)
          .map((outcome) => outcome.answeredAt);
        if (firstOk.length > 0 && Date.now() - Math.min(...firstOk) > options.settleMs) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      stopping = true;
      await Promise.all(loads);
    }
    return killedAt;
  }

  /** Each user's last REGISTER answered 200: the binding that must be kept. */
  lastAcknowledged(): Map<string, RegisterOutcome> {
    const last = new Map<string, RegisterOutcome>();
    for (const outcome of this.outcomes)
      if (outcome.status === 200 && outcome.cseq > (last.get(outcome.user)?.cseq ?? 0)) last.set(outcome.user, outcome);
    return last;
  }

  /**
   * Each acknowledged registration that `bindingsOf` (the cache's bindings
   * of a user, read back) does not hold: the user's last 200 with no
   * binding of its contact, or one from an older REGISTER (a lower CSeq of
   * the phone's one Call-ID); described, for the failing test's message.
   */
  async lostRegistrations(
    bindingsOf: (user: string) => Promise<readonly { contact: string; cseq: number }[]>,
  ): Promise<string[]> {
    const lost: string[] = [];
    for (const [user, acknowledged] of this.lastAcknowledged()) {
      const held = (await bindingsOf(user)).find((binding) => binding.contact === this.contactOf(user));
      if (!held || held.cseq < acknowledged.cseq)
        lost.push(
          `${user}: REGISTER CSeq ${acknowledged.cseq} answered 200 at ${new Date(acknowledged.answeredAt).toISOString()}, held ${held ? `CSeq ${held.cseq}` : 'nothing'}`,
        );
    }
    return lost;
  }

  close(): void {
    for (const phone of this.phones.values()) phone.peer.close();
  }

  private phone(user: string): RegisteringPhone {
    const phone = this.phones.get(user);
    if (!phone) throw new Error(`${user} is not a phone of the fleet`);
    return phone;
  }

  /**
   * A REGISTER and its final answer, sent again over UDP until one comes
   * (RFC 3261 §17.1.2.2: Timer E from 500 ms doubling to T2, 4 s), four
   * times in all: a stall of the proxy on a busy machine is a late answer,
   * not a lost registration.
   */
  private async exchange(
    phone: RegisteringPhone,
    to: { address: string; port: number },
    request: string,
  ): Promise<string | undefined> {
    const final = new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*CSeq: ${/^CSeq: (\d+)/m.exec(request)?.[1]} REGISTER`);
    for (const waitMs of [500, 1000, 2000, 4000]) {
      phone.peer.send(request, to);
      const answer = await phone.peer.receive(final, waitMs);
      if (answer) return answer;
    }
    return undefined;
  }

  private async register(user: FleetUser, proxy: number): Promise<void> {
    this.busy.add(user.name);
    const phone = this.phone(user.name);
    const sentAt = Date.now();
    try {
      const to = this.proxies[proxy] ?? { address: '', port: 0 };
      let request = phone.request(user.name);
      let answer = await this.exchange(phone, to, request);
      const [challenge] = statusOf(answer) === 401 ? challengesOf(answer) : [];
      if (challenge) {
        request = phone.request(user.name, [phone.authorization(user.name, user.password, challenge)]);
        answer = await this.exchange(phone, to, request);
      }
      this.outcomes.push({
        user: user.name,
        proxy,
        cseq: Number(/^CSeq: (\d+)/m.exec(request)?.[1]),
        sentAt,
        answeredAt: Date.now(),
        status: statusOf(answer),
        retryAfter: /^Retry-After:\s*(\S+)/im.exec(answer ?? '')?.[1],
      });
    } finally {
      this.busy.delete(user.name);
    }
  }
}

/** The fleet's acknowledged registrations that the Redis on 127.0.0.1:`port` does not hold, its keys under `keyPrefix` (src/cache/keys.ts). */
export async function registrationsLostIn(fleet: RegisteringFleet, port: number, keyPrefix: string): Promise<string[]> {
  const direct = new Redis(port, '127.0.0.1');
  const keys = cacheKeys(keyPrefix);
  try {
    return await fleet.lostRegistrations(
      async (user) =>
        JSON.parse((await direct.get(keys.bindings(user))) ?? '[]') as { contact: string; cseq: number }[],
    );
  } finally {
    direct.disconnect();
  }
}
