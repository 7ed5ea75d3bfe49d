import { describe, expect, it } from 'vitest';
import {
  IllegalServerTransition,
  initialServerState,
  retransmitsFinal,
  type ServerEffect,
  type ServerEvent,
  type ServerState,
  serverStep,
  serverTimerMs,
} from '../../../../src/sip/core/server-transaction.js';

const response = (status: number): ServerEvent => ({ kind: 'response', status });
const REQUEST: ServerEvent = { kind: 'request' };
const ACK: ServerEvent = { kind: 'ack' };
const TIMER: ServerEvent = { kind: 'timer' };

type Row = [from: ServerState, event: ServerEvent, to: ServerState, effects: ServerEffect[]];

/** RFC 3261 figure 7, with RFC 6026's Accepted for the 2xx. */
const INVITE_ROWS: Row[] = [
  ['Proceeding', response(100), 'Proceeding', ['send', 'keep']],
  ['Proceeding', response(180), 'Proceeding', ['send', 'keep']],
  ['Proceeding', response(200), 'Accepted', ['send', 'drop']],
  ['Proceeding', response(486), 'Completed', ['send', 'keep']],
  ['Proceeding', REQUEST, 'Proceeding', ['resend']],
  ['Proceeding', ACK, 'Proceeding', []],
  ['Completed', REQUEST, 'Completed', ['resend']],
  ['Completed', ACK, 'Confirmed', ['drop']],
  // A proxy forwards a 2xx even after a non-2xx went up (RFC 3261 §16.7 step 10).
  ['Completed', response(200), 'Accepted', ['send', 'drop']],
  ['Completed', response(180), 'Completed', []],
  ['Completed', response(486), 'Completed', []],
  ['Completed', TIMER, 'Terminated', []],
  ['Confirmed', REQUEST, 'Confirmed', []],
  ['Confirmed', ACK, 'Confirmed', []],
  ['Confirmed', response(200), 'Confirmed', ['send']],
  ['Confirmed', TIMER, 'Terminated', []],
  ['Accepted', REQUEST, 'Accepted', []],
  ['Accepted', ACK, 'Accepted', ['not-ours']],
  ['Accepted', response(200), 'Accepted', ['send']],
  ['Accepted', TIMER, 'Terminated', []],
  ['Terminated', response(200), 'Terminated', ['send']],
  ['Terminated', TIMER, 'Terminated', []],
];

/** RFC 3261 figure 8. */
const NON_INVITE_ROWS: Row[] = [
  ['Trying', REQUEST, 'Trying', []],
  ['Trying', response(100), 'Proceeding', ['send', 'keep']],
  ['Trying', response(200), 'Completed', ['send', 'keep']],
  ['Trying', response(404), 'Completed', ['send', 'keep']],
  ['Proceeding', REQUEST, 'Proceeding', ['resend']],
  ['Proceeding', response(183), 'Proceeding', ['send', 'keep']],
  ['Proceeding', response(200), 'Completed', ['send', 'keep']],
  ['Completed', REQUEST, 'Completed', ['resend']],
  ['Completed', response(500), 'Completed', ['send']],
  ['Completed', ACK, 'Completed', []],
  ['Completed', TIMER, 'Terminated', []],
  ['Terminated', response(200), 'Terminated', ['send']],
];

const show = (event: ServerEvent) => (event.kind === 'response' ? String(event.status) : event.kind);

describe('server transactions (RFC 3261 §17.2)', () => {
  it('start in Proceeding (INVITE) or Trying (the rest)', () => {
    expect(initialServerState(true)).toBe('Proceeding');
    expect(initialServerState(false)).toBe('Trying');
  });

  describe.each([
    ['INVITE', true, INVITE_ROWS],
    ['non-INVITE', false, NON_INVITE_ROWS],
  ] as const)('%s', (_name, invite, rows) => {
    it.each(rows.map((row) => [row[0], show(row[1]), ...row] as const))(
      '%s on %s',
      (_from, _event, from, event, to, effects) => {
        expect(serverStep(invite, from, event)).toEqual({ to, effects });
      },
    );
  });

  it.each([
    [true, 'Trying', REQUEST],
    [false, 'Confirmed', REQUEST],
    [false, 'Accepted', ACK],
    [true, 'Proceeding', TIMER],
    [false, 'Trying', TIMER],
    [true, 'Terminated', REQUEST],
    [false, 'Terminated', ACK],
  ] as const)('throw on what cannot happen (INVITE %s: %s on %s)', (invite, from, event) => {
    expect(() => serverStep(invite, from, event)).toThrow(IllegalServerTransition);
  });

  it('names the state and the event when it throws', () => {
    expect(() => serverStep(true, 'Proceeding', TIMER)).toThrow(
      'server transaction (INVITE): no transition from Proceeding on timer',
    );
  });

  it.each([
    [true, 'Completed', false, 32_000],
    [true, 'Completed', true, 32_000],
    [true, 'Confirmed', false, 5000],
    [true, 'Confirmed', true, 0],
    [true, 'Accepted', false, 32_000],
    [true, 'Accepted', true, 32_000],
    [false, 'Completed', false, 32_000],
    [false, 'Completed', true, 0],
    [true, 'Proceeding', false, undefined],
    [false, 'Trying', false, undefined],
  ] as const)(
    'time an INVITE (%s) transaction in %s (reliable: %s) out after %s ms (H, I, J, L)',
    (invite, state, reliable, ms) => {
      expect(serverTimerMs(invite, state, reliable)).toBe(ms);
    },
  );

  it('retransmit only an INVITE non-2xx final, in Completed, over an unreliable transport (timer G)', () => {
    expect(retransmitsFinal(true, 'Completed', false)).toBe(true);
    expect(retransmitsFinal(true, 'Completed', true)).toBe(false);
    expect(retransmitsFinal(true, 'Accepted', false)).toBe(false);
    expect(retransmitsFinal(false, 'Completed', false)).toBe(false);
  });
});
