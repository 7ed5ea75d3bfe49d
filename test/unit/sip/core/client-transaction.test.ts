import { describe, expect, it } from 'vitest';
import {
  type CancelProgress,
  type ClientEffect,
  type ClientEvent,
  type ClientState,
  clientStep,
  IllegalClientTransition,
  initialClientMachine,
  lingerMs,
} from '../../../../src/sip/core/client-transaction.js';
import { doubledUpToT2Ms, T1_MS, timerANextMs } from '../../../../src/sip/core/timers.js';

const response = (status: number): ClientEvent => ({ kind: 'response', status });
const TIMEOUT: ClientEvent = { kind: 'timeout' };
const TRANSPORT_ERROR: ClientEvent = { kind: 'transport-error' };
const CANCEL: ClientEvent = { kind: 'cancel' };
const ABANDON: ClientEvent = { kind: 'abandon' };

type Row = [
  from: ClientState,
  cancel: CancelProgress,
  event: ClientEvent,
  to: ClientState,
  toCancel: CancelProgress,
  effects: ClientEffect[],
];

/** RFC 3261 figure 5 (RFC 6026's Accepted in place of 2xx → Terminated), with the CANCEL of §9.1. */
const INVITE_ROWS: Row[] = [
  ['Calling', 'not-asked', response(100), 'Proceeding', 'not-asked', []],
  ['Calling', 'not-asked', response(180), 'Proceeding', 'not-asked', ['relay']],
  ['Calling', 'awaiting-provisional', response(100), 'Proceeding', 'sent', ['cancel']],
  ['Calling', 'awaiting-provisional', response(183), 'Proceeding', 'sent', ['cancel', 'relay']],
  ['Calling', 'not-asked', response(200), 'Accepted', 'not-asked', ['report']],
  ['Calling', 'not-asked', response(486), 'Completed', 'not-asked', ['ack', 'report']],
  ['Calling', 'not-asked', TIMEOUT, 'Terminated', 'not-asked', ['report']],
  ['Calling', 'not-asked', TRANSPORT_ERROR, 'Terminated', 'not-asked', ['report']],
  ['Calling', 'not-asked', CANCEL, 'Calling', 'awaiting-provisional', []],
  ['Calling', 'awaiting-provisional', CANCEL, 'Calling', 'awaiting-provisional', []],
  ['Calling', 'not-asked', ABANDON, 'Terminated', 'not-asked', ['forget']],
  ['Proceeding', 'not-asked', response(180), 'Proceeding', 'not-asked', ['relay']],
  ['Proceeding', 'not-asked', response(100), 'Proceeding', 'not-asked', []],
  ['Proceeding', 'not-asked', response(200), 'Accepted', 'not-asked', ['report']],
  ['Proceeding', 'sent', response(487), 'Completed', 'sent', ['ack', 'report']],
  ['Proceeding', 'not-asked', response(603), 'Completed', 'not-asked', ['ack', 'report']],
  // Timer C of a proxy (§16.8): the ringing INVITE is CANCELled as it ends.
  ['Proceeding', 'not-asked', TIMEOUT, 'Terminated', 'sent', ['cancel', 'report']],
  ['Proceeding', 'sent', TIMEOUT, 'Terminated', 'sent', ['report']],
  ['Proceeding', 'not-asked', TRANSPORT_ERROR, 'Proceeding', 'not-asked', []],
  ['Proceeding', 'not-asked', CANCEL, 'Proceeding', 'sent', ['cancel']],
  ['Proceeding', 'sent', CANCEL, 'Proceeding', 'sent', []],
  // After the outcome (the lingering branch): a non-2xx ACKed again, a 2xx passed upstream.
  ['Completed', 'not-asked', response(486), 'Completed', 'not-asked', ['ack']],
  ['Completed', 'not-asked', response(200), 'Completed', 'not-asked', ['relay']],
  ['Completed', 'not-asked', response(180), 'Completed', 'not-asked', []],
  ['Completed', 'not-asked', CANCEL, 'Completed', 'not-asked', []],
  ['Accepted', 'not-asked', response(200), 'Accepted', 'not-asked', ['relay']],
  ['Accepted', 'not-asked', TIMEOUT, 'Accepted', 'not-asked', []],
  ['Terminated', 'sent', response(487), 'Terminated', 'sent', ['ack']],
  ['Terminated', 'not-asked', response(200), 'Terminated', 'not-asked', ['relay']],
  ['Terminated', 'not-asked', TRANSPORT_ERROR, 'Terminated', 'not-asked', []],
];

/** RFC 3261 figure 6. */
const NON_INVITE_ROWS: Row[] = [
  ['Trying', 'not-asked', response(100), 'Proceeding', 'not-asked', []],
  ['Trying', 'not-asked', response(180), 'Proceeding', 'not-asked', ['relay']],
  ['Trying', 'not-asked', response(200), 'Completed', 'not-asked', ['report']],
  ['Trying', 'not-asked', response(404), 'Completed', 'not-asked', ['report']],
  ['Trying', 'not-asked', TIMEOUT, 'Terminated', 'not-asked', ['report']],
  ['Trying', 'not-asked', TRANSPORT_ERROR, 'Terminated', 'not-asked', ['report']],
  ['Trying', 'not-asked', CANCEL, 'Trying', 'not-asked', []],
  ['Trying', 'not-asked', ABANDON, 'Terminated', 'not-asked', ['forget']],
  ['Proceeding', 'not-asked', response(200), 'Completed', 'not-asked', ['report']],
  ['Proceeding', 'not-asked', response(500), 'Completed', 'not-asked', ['report']],
  ['Proceeding', 'not-asked', TIMEOUT, 'Terminated', 'not-asked', ['report']],
  ['Proceeding', 'not-asked', TRANSPORT_ERROR, 'Proceeding', 'not-asked', []],
  // Retransmitted finals are absorbed (§17.1.2.2).
  ['Completed', 'not-asked', response(200), 'Completed', 'not-asked', []],
  ['Completed', 'not-asked', response(404), 'Completed', 'not-asked', []],
  ['Terminated', 'not-asked', response(200), 'Terminated', 'not-asked', []],
];

const show = (event: ClientEvent) => (event.kind === 'response' ? String(event.status) : event.kind);

describe('client transactions (RFC 3261 §17.1)', () => {
  it('start in Calling (INVITE) or Trying (the rest), with no CANCEL asked for', () => {
    expect(initialClientMachine(true)).toEqual({ invite: true, state: 'Calling', cancel: 'not-asked' });
    expect(initialClientMachine(false)).toEqual({ invite: false, state: 'Trying', cancel: 'not-asked' });
  });

  describe.each([
    ['INVITE', true, INVITE_ROWS],
    ['non-INVITE', false, NON_INVITE_ROWS],
  ] as const)('%s', (_name, invite, rows) => {
    it.each(rows.map((row) => [row[0], row[1], show(row[2]), ...row] as const))(
      '%s (CANCEL %s) on %s',
      (_from, _cancel, _event, from, cancel, event, to, toCancel, effects) => {
        const step = clientStep({ invite, state: from, cancel }, event);
        expect(step.to).toEqual({ invite, state: to, cancel: toCancel });
        expect(step.effects).toEqual(effects);
      },
    );
  });

  it.each([
    [true, 'Trying'],
    [false, 'Calling'],
    [false, 'Accepted'],
  ] as const)('refuse a state the method does not have (INVITE %s, %s)', (invite, state) => {
    expect(() => clientStep({ invite, state, cancel: 'not-asked' }, TIMEOUT)).toThrow(IllegalClientTransition);
  });

  it.each(['Proceeding', 'Completed', 'Accepted', 'Terminated'] as const)(
    'refuse to abandon an INVITE transaction under way (%s), naming the state',
    (state) => {
      expect(() => clientStep({ invite: true, state, cancel: 'not-asked' }, ABANDON)).toThrow(
        `client transaction (INVITE): no transition from ${state} on abandon`,
      );
    },
  );

  it('linger after the outcome: an INVITE for timer D (32 s), another request for timer K over UDP only', () => {
    expect(lingerMs(true, false)).toBe(32_000);
    expect(lingerMs(true, true)).toBe(32_000);
    expect(lingerMs(false, false)).toBe(5000);
    expect(lingerMs(false, true)).toBe(0);
  });

  it('retransmit an INVITE at T1 doubling (timer A), another request doubling up to T2 (timer E)', () => {
    const series = (next: (ms: number) => number) => {
      const intervals = [T1_MS];
      while (intervals.length < 6) intervals.push(next(intervals.at(-1) ?? 0));
      return intervals;
    };
    expect(series(timerANextMs)).toEqual([500, 1000, 2000, 4000, 8000, 16_000]);
    expect(series(doubledUpToT2Ms)).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
  });
});
