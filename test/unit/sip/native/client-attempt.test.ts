import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AttemptHooks, type AttemptOutcome, ClientAttempt } from '../../../../src/sip/native/client-attempt.js';
import type { InboundResponse } from '../../../../src/sip/native/inbound-response.js';

const BRANCH = 'z9hG4bK-attempt-1';

/** A BYE's attempt toward a UDP gateway, with hooks that record what it sends and let the test answer. */
function byeAttempt(noResponseTimeoutMs: number) {
  const sentAt: number[] = [];
  let answer: ((response: InboundResponse) => void) | undefined;
  const hooks: AttemptHooks = {
    send: () => undefined,
    sendText: () => void sentAt.push(Date.now()),
    relay: () => undefined,
    register: (_branch, _method, onResponse) => void (answer = onResponse),
    unregister: () => undefined,
    linger: () => undefined,
    now: () => Date.now(),
  };
  const attempt = new ClientAttempt(
    { method: 'BYE', text: 'BYE sip:gw@192.0.2.1 SIP/2.0\r\n\r\n', hop: { uri: 'sip:gw@192.0.2.1', headers: {} } },
    BRANCH,
    { uri: 'sip:gw@192.0.2.1', destination: { transport: 'udp', address: '192.0.2.1', port: 5060 }, label: 'gateway' },
    hooks,
    { noResponseTimeoutMs, inviteTimeoutMs: 60_000 },
  );
  let outcome: AttemptOutcome | undefined;
  void attempt.finished.then((ended) => (outcome = ended));
  attempt.start();
  const respond = (status: number) =>
    answer?.({ status, reason: '', branch: BRANCH, method: 'BYE', message: () => ({}) as never, relayText: () => '' });
  return { sentAt, respond, outcome: () => outcome };
}

describe('a non-INVITE client transaction after a provisional (RFC 3261 §17.1.2.2)', () => {
  beforeEach(() => void vi.useFakeTimers({ now: 0 }));
  afterEach(() => void vi.useRealTimers());

  it('outlives proxy.timeoutMs, retransmits every T2 over UDP, and ends as a 408 when timer F fires at 64·T1', async () => {
    const bye = byeAttempt(2000);
    await vi.advanceTimersByTimeAsync(700); // sent at 0, again at 500 (timer E)
    bye.respond(100);
    await vi.advanceTimersByTimeAsync(5000);
    expect(bye.outcome()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(25_000); // 30.7 s: still within timer F
    expect(bye.outcome()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1400); // 32.1 s
    expect(bye.outcome()).toMatchObject({ status: 408, local: true, provisional: true });
    // Trying: 0 and 500; Proceeding: every 4 s from the 100 at 700 until timer F.
    expect(bye.sentAt).toEqual([0, 500, 4700, 8700, 12_700, 16_700, 20_700, 24_700, 28_700]);
  });

  it('ends at proxy.timeoutMs when nothing at all answers', async () => {
    const bye = byeAttempt(2000);
    await vi.advanceTimersByTimeAsync(2001);
    expect(bye.outcome()).toMatchObject({ status: 408, local: true, provisional: false });
  });

  it('ends with the final that follows the provisional', async () => {
    const bye = byeAttempt(2000);
    await vi.advanceTimersByTimeAsync(100);
    bye.respond(100);
    await vi.advanceTimersByTimeAsync(10_000);
    bye.respond(200);
    await vi.advanceTimersByTimeAsync(0);
    expect(bye.outcome()).toMatchObject({ status: 200, local: false });
  });
});
