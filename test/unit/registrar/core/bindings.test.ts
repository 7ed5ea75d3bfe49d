import { describe, expect, it } from 'vitest';
import {
  applyRegister,
  type Binding,
  boundToFlow,
  byPreference,
  contactHeaderValues,
  type RegisterRequest,
  sameContact,
} from '../../../../src/registrar/core/bindings.js';

const NOW = 1_800_000_000_000;
const LIMITS = {
  defaultExpiresSeconds: 3600,
  minExpiresSeconds: 60,
  maxExpiresSeconds: 7200,
  maxContacts: 3,
  expiresJitterPercent: 0,
};
/** registrar.expiresJitter is 0 in LIMITS: the draw is never used. */
const NO_DRAW = () => 0;
const SOURCE = { address: '127.0.0.10', port: 5062, transport: 'udp' as const };

function request(overrides: Partial<RegisterRequest>): RegisterRequest {
  return {
    aor: '1001@example.com',
    contacts: undefined,
    expiresHeader: undefined,
    callId: 'c1',
    cseq: 2,
    source: SOURCE,
    userAgent: 'test',
    node: '',
    ...overrides,
  };
}

function binding(contact: string, overrides: Partial<Binding> = {}): Binding {
  return {
    aor: '1001@example.com',
    contact,
    expiresAt: NOW + 600_000,
    callId: 'c1',
    cseq: 1,
    q: 1,
    source: SOURCE,
    userAgent: 'test',
    contactParams: '',
    ...overrides,
  };
}

const contact = (uri: string, expires?: number, q?: number, params = '') => ({ uri, params, expires, q });

describe('applyRegister (RFC 3261 §10.3)', () => {
  it('keeps the node that took the REGISTER with each binding it makes, and none when ha.nodeAddress is not set', () => {
    const through = applyRegister(
      [],
      request({ contacts: [contact('sip:1001@127.0.0.10:5062')], node: '198.18.0.13:5060' }),
      LIMITS,
      NOW,
      NO_DRAW,
    );
    expect(through.ok && through.bindings.map((b) => b.node)).toEqual(['198.18.0.13:5060']);
    const alone = applyRegister([], request({ contacts: [contact('sip:1001@127.0.0.10:5062')] }), LIMITS, NOW, NO_DRAW);
    expect(alone.ok && alone.bindings.map((b) => 'node' in b)).toEqual([false]);
  });

  it('adds a binding with the Expires header, the contact param winning over it', () => {
    const result = applyRegister(
      [],
      request({
        contacts: [contact('sip:1001@127.0.0.10:5062'), contact('sip:1001@127.0.0.11', 120)],
        expiresHeader: 300,
      }),
      LIMITS,
      NOW,
      NO_DRAW,
    );
    expect(result).toMatchObject({ ok: true, changed: true });
    if (!result.ok) throw new Error('rejected');
    expect(result.bindings.map((b) => [b.contact, (b.expiresAt - NOW) / 1000])).toEqual([
      ['sip:1001@127.0.0.10:5062', 300],
      ['sip:1001@127.0.0.11', 120],
    ]);
  });

  it.each([
    ['no expiry anywhere: the default', undefined, undefined, 3600],
    ['above the maximum: clamped', 100_000, undefined, 7200],
    ['a malformed expiry: 3600 (then clamped no further)', Number.NaN, undefined, 3600],
    ['over 2^32-1: taken as the maximum', 2 ** 40, undefined, 7200],
  ])('%s', (_what, header, param, granted) => {
    const result = applyRegister(
      [],
      request({ contacts: [contact('sip:1001@127.0.0.10', param)], expiresHeader: header }),
      LIMITS,
      NOW,
      NO_DRAW,
    );
    if (!result.ok) throw new Error('rejected');
    expect((result.bindings[0]?.expiresAt ?? 0) - NOW).toBe(granted * 1000);
  });

  it.each([
    ['the largest draw: shortened by the whole share', 0.999, 3600, 20, 2881],
    ['no draw: the full expiry', 0, 3600, 20, 3600],
    ['half the share', 0.5, 1000, 10, 950],
    ['never below the minimum the phone was held to', 0.999, 70, 50, 60],
    ['a requested expiry under the minimum (an hour and more is allowed) stays as it is', 0.999, 60, 50, 60],
  ])('registrar.expiresJitter: %s', (_what, draw, requested, percent, granted) => {
    const limits = { ...LIMITS, expiresJitterPercent: percent };
    const result = applyRegister(
      [],
      request({ contacts: [contact('sip:1001@127.0.0.10', requested)] }),
      limits,
      NOW,
      () => draw,
    );
    if (!result.ok) throw new Error('rejected');
    expect((result.bindings[0]?.expiresAt ?? 0) - NOW).toBe(granted * 1000);
  });

  it('registrar.expiresJitter spreads a burst of equal registrations over the share', () => {
    const limits = { ...LIMITS, expiresJitterPercent: 20 };
    let seed = 7;
    // A fixed linear congruential sequence: the same spread every run.
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const granted = Array.from({ length: 200 }, () => {
      const result = applyRegister(
        [],
        request({ contacts: [contact('sip:1001@127.0.0.10', 3600)] }),
        limits,
        NOW,
        random,
      );
      return result.ok ? ((result.bindings[0]?.expiresAt ?? 0) - NOW) / 1000 : Number.NaN;
    });
    expect(Math.min(...granted)).toBeGreaterThanOrEqual(2881);
    expect(Math.max(...granted)).toBeLessThanOrEqual(3600);
    expect(new Set(granted).size).toBeGreaterThan(150);
  });

  it('answers 423 with Min-Expires below the minimum', () => {
    expect(
      applyRegister([], request({ contacts: [contact('sip:1001@127.0.0.10', 30)] }), LIMITS, NOW, NO_DRAW),
    ).toEqual({
      ok: false,
      status: 423,
      reason: 'Interval Too Brief',
      headers: { 'Min-Expires': '60' },
    });
  });

  it('a fetch returns the live bindings unchanged, dropping expired ones', () => {
    const stored = [binding('sip:a@127.0.0.10'), binding('sip:b@127.0.0.10', { expiresAt: NOW - 1 })];
    expect(applyRegister(stored, request({}), LIMITS, NOW, NO_DRAW)).toEqual({
      ok: true,
      bindings: [stored[0]],
      changed: true,
    });
  });

  it('refreshes a binding of the same contact, and removes one with expires 0', () => {
    const stored = [binding('sip:1001@127.0.0.10:5062'), binding('sip:1001@127.0.0.11')];
    const result = applyRegister(
      stored,
      request({ contacts: [contact('sip:1001@127.0.0.10:5062', 900), contact('sip:1001@127.0.0.11', 0)], cseq: 5 }),
      LIMITS,
      NOW,
      NO_DRAW,
    );
    if (!result.ok) throw new Error('rejected');
    expect(result.bindings.map((b) => [b.contact, b.cseq, (b.expiresAt - NOW) / 1000])).toEqual([
      ['sip:1001@127.0.0.10:5062', 5, 900],
    ]);
  });

  it('rejects a CSeq that is not higher on the same Call-ID; another Call-ID replaces', () => {
    const stored = [binding('sip:1001@127.0.0.10', { cseq: 7 })];
    expect(
      applyRegister(stored, request({ contacts: [contact('sip:1001@127.0.0.10')], cseq: 7 }), LIMITS, NOW, NO_DRAW),
    ).toMatchObject({ ok: false, status: 400 });
    expect(
      applyRegister(
        stored,
        request({ contacts: [contact('sip:1001@127.0.0.10')], cseq: 1, callId: 'rebooted' }),
        LIMITS,
        NOW,
        NO_DRAW,
      ),
    ).toMatchObject({ ok: true });
  });

  it('answers a retransmission of the REGISTER that made a binding (same Call-ID and CSeq, within 32 s) with the bindings unchanged', () => {
    const stored = [
      binding('sip:1001@127.0.0.10', { cseq: 7, registeredAt: NOW - 5000 }),
      binding('sip:1001@127.0.0.11', { callId: 'other' }),
    ];
    const again = request({ contacts: [contact('sip:1001@127.0.0.10', 900)], cseq: 7 });
    expect(applyRegister(stored, again, LIMITS, NOW, NO_DRAW)).toEqual({ ok: true, bindings: stored, changed: false });
    // Past Timer F it is no retransmission: out of order, as RFC 3261 §10.3 step 7 says.
    expect(applyRegister(stored, again, LIMITS, NOW + 28_000, NO_DRAW)).toMatchObject({
      ok: false,
      status: 400,
      reason: 'CSeq Out Of Order',
    });
    const stamped = applyRegister(
      [],
      request({ contacts: [contact('sip:1001@127.0.0.12')], cseq: 3 }),
      LIMITS,
      NOW,
      NO_DRAW,
    );
    expect(stamped).toMatchObject({ ok: true, bindings: [{ registeredAt: NOW }] });
  });

  it('Contact * with Expires 0 removes everything; without Expires 0 it is a 400', () => {
    const stored = [binding('sip:a@127.0.0.10'), binding('sip:b@127.0.0.10', { callId: 'other' })];
    expect(applyRegister(stored, request({ contacts: '*', expiresHeader: 0, cseq: 9 }), LIMITS, NOW, NO_DRAW)).toEqual({
      ok: true,
      bindings: [],
      changed: true,
    });
    expect(applyRegister(stored, request({ contacts: '*', expiresHeader: 60 }), LIMITS, NOW, NO_DRAW)).toMatchObject({
      ok: false,
      status: 400,
    });
    expect(
      applyRegister(stored, request({ contacts: '*', expiresHeader: 0, cseq: 1 }), LIMITS, NOW, NO_DRAW),
    ).toMatchObject({ ok: false, status: 400, reason: 'CSeq Out Of Order' });
  });

  it('refuses more contacts than the limit, storing none of them', () => {
    const many = ['a', 'b', 'c', 'd'].map((user) => contact(`sip:${user}@127.0.0.10`));
    expect(applyRegister([], request({ contacts: many }), LIMITS, NOW, NO_DRAW)).toMatchObject({
      ok: false,
      status: 403,
    });
  });
});

describe('binding helpers', () => {
  it('compares contacts by scheme, user, host (any case), port and transport', () => {
    expect(sameContact('sip:1001@Host.Example:5060;transport=UDP', 'sip:1001@host.example:5060;transport=udp;ob')).toBe(
      true,
    );
    expect(sameContact('sip:1001@host.example:5060', 'sip:1001@host.example:5062')).toBe(false);
  });

  it('lists each binding with its remaining seconds, and orders by q then recency', () => {
    const bindings = [
      binding('sip:a@x', { q: 0.5, expiresAt: NOW + 1500 }),
      binding('sip:b@x', { q: 1, expiresAt: NOW + 30_000 }),
    ];
    expect(contactHeaderValues(bindings, NOW)).toEqual(['<sip:a@x>;expires=2', '<sip:b@x>;expires=30']);
    expect(byPreference(bindings).map((b) => b.contact)).toEqual(['sip:b@x', 'sip:a@x']);
  });

  it("keeps a contact's own parameters and gives them back outside the URI (RFC 4475 §3.3.12)", () => {
    const result = applyRegister(
      [],
      request({ contacts: [contact('sip:+19725552222@gw1.example.net', 60, undefined, ';unknownparam')] }),
      LIMITS,
      NOW,
      NO_DRAW,
    );
    if (!result.ok) throw new Error('rejected');
    expect(result.bindings[0]).toMatchObject({
      contact: 'sip:+19725552222@gw1.example.net',
      contactParams: ';unknownparam',
    });
    expect(contactHeaderValues(result.bindings, NOW)).toEqual([
      '<sip:+19725552222@gw1.example.net>;unknownparam;expires=60',
    ]);
  });
});

describe('bindings bound to a connection (RFC 5626 §5.3)', () => {
  const flow = { address: '127.0.0.73', port: 40001, transport: 'ws' as const };
  it("are a WebSocket phone's bindings on that connection, and any that asked for outbound (reg-id) on a TCP or TLS one", () => {
    const browser = binding('sip:1001@abc.invalid;transport=ws', { source: flow });
    const otherConnection = binding('sip:1001@def.invalid;transport=ws', { source: { ...flow, port: 40002 } });
    const overUdp = binding('sip:1001@127.0.0.73:5060', { source: { ...flow, transport: 'udp' } });
    expect(boundToFlow([browser, otherConnection, overUdp], flow)).toEqual([browser]);
    const tcp = { address: '127.0.0.9', port: 40003, transport: 'tcp' as const };
    const outbound = binding('sip:1002@127.0.0.9:40003;transport=tcp', {
      source: tcp,
      contactParams: ';reg-id=1;+sip.instance="<urn:uuid:1>"',
    });
    const plainTcp = binding('sip:1003@127.0.0.9:40003;transport=tcp', { source: tcp });
    expect(boundToFlow([outbound, plainTcp], tcp)).toEqual([outbound]);
  });
});
