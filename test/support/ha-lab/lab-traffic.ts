import type { HaLab } from './ha-lab.js';
import { LAB, SIP_TARGET } from './ha-lab.js';
import type { Lab } from './lab.js';
import { credentialsRow, PHONES } from './lab-data.js';
import type { LabSipp } from './lab-sipp.js';

/**
 * The sipp runs the HA tests use, each bounded: the phones, the REGISTER
 * and call loads, the gateways, and a stand-in Asterisk calling each phone.
 */

/** Any number: the lab's one rule sends it to gateway 1, then gateway 2. */
export const GATEWAY_NUMBER = '5551000';

/**
 * A stand-in Asterisk on `address`:5060 that answers calls (ringing
 * `answerDelayMs` first) and probes with `optionsStatus`, logging both
 * (test/sipp/gateway.xml).
 */
export function startGateway(lab: HaLab, address: string, optionsStatus: 200 | 503, answerDelayMs = 0): LabSipp {
  return lab.sipp({
    scenario: 'gateway.xml',
    replace: { OPTIONS_STATUS: String(optionsStatus), ANSWER_DELAY_MS: String(answerDelayMs) },
    localIp: address,
    localPort: 5060,
    timeoutSeconds: 600,
  });
}

export interface PhoneGroup {
  users: readonly string[];
  /** Their one address (sipp on :5060). */
  address: string;
  /** The proxy they register through, address:port. */
  target: string;
}

/** The HA lab's phones: the 200 of them on LAB.phones, through the virtual IP. */
const HA_PHONES: PhoneGroup = { users: PHONES, address: LAB.phones, target: SIP_TARGET };

/**
 * Phones, one sipp call each on `address`:5060: REGISTER with digest, then
 * registered (and answering calls to them, test/sipp/uas-answer.xml) until stopped.
 */
export function startPhones(lab: Lab, group: PhoneGroup = HA_PHONES): LabSipp {
  return lab.sipp({
    scenario: 'phone-register.xml',
    // Each phone's user and credentials come from the injection file; it unregisters only after HOLD_MS, long past the test.
    replace: {
      '[authentication username=USER password=PASSWORD]': '[field1]',
      USER: '[field0]',
      PROXY: group.target,
      HOLD_MS: '600000',
    },
    injection: group.users.map(credentialsRow),
    localIp: group.address,
    localPort: 5060,
    target: group.target,
    rate: 100,
    limit: group.users.length,
    calls: group.users.length,
    answerIncoming: 'uas-answer.xml',
    timeoutSeconds: 600,
  });
}

/** REGISTERs of `users` in turn (test/sipp/uac-register.xml), `rate` per second, `calls` in all, response times kept. */
export function registerLoad(
  lab: HaLab,
  options: { users: readonly string[]; rate: number; calls: number; expiresSeconds?: number; timeoutSeconds?: number },
): LabSipp {
  return lab.sipp({
    scenario: 'uac-register.xml',
    replace: options.expiresSeconds === undefined ? {} : { 'Expires: 3600': `Expires: ${options.expiresSeconds}` },
    injection: options.users.map(credentialsRow),
    localIp: LAB.registerLoad,
    target: SIP_TARGET,
    rate: options.rate,
    limit: 100,
    calls: options.calls,
    rtt: true,
    timeoutSeconds: options.timeoutSeconds ?? 30,
  });
}

/** Calls to the gateways (test/sipp/uac-call.xml), each held `holdMs` then ended with BYE through the Record-Route. */
export function callLoad(
  lab: HaLab,
  options: { rate: number; calls: number; holdMs: number; number?: string; timeoutSeconds?: number },
): LabSipp {
  return lab.sipp({
    scenario: 'uac-call.xml',
    replace: { HOLD_MS: String(options.holdMs) },
    service: options.number ?? GATEWAY_NUMBER,
    localIp: LAB.callLoad,
    target: SIP_TARGET,
    rate: options.rate,
    limit: Math.max(options.calls, 1),
    calls: options.calls,
    rtt: true,
    timeoutSeconds: options.timeoutSeconds ?? 30,
  });
}

/** A stand-in Asterisk calling each of `phones` once through the virtual IP. */
export function callPhones(
  lab: HaLab,
  phones: readonly string[],
  options: { rate: number; timeoutSeconds?: number },
): LabSipp {
  return lab.sipp({
    scenario: 'uac-call.xml',
    // The callee of each call from the injection file instead of -s.
    replace: { '[service]': '[field0]', HOLD_MS: '100' },
    injection: phones.map((phone) => [phone]),
    localIp: LAB.asterisk,
    target: SIP_TARGET,
    rate: options.rate,
    limit: 50,
    calls: phones.length,
    rtt: true,
    timeoutSeconds: options.timeoutSeconds ?? 30,
  });
}

/**
 * Phones calling phones (test/sipp/uac-call-auth.xml: the proxy's 407
 * answered with the caller's credentials), one call for each [callee,
 * caller] pair in turn, from `address` (a port of its own beside the
 * phones' sipp there) through `target`.
 */
export function callsBetweenPhones(
  lab: Lab,
  options: {
    calls: readonly (readonly [callee: string, caller: string])[];
    address: string;
    target: string;
    rate: number;
    timeoutSeconds?: number;
  },
): LabSipp {
  return lab.sipp({
    scenario: 'uac-call-auth.xml',
    // The auth keyword first: it holds the word CALLER too.
    replace: {
      '[authentication username=CALLER password=PASSWORD]': '[field2]',
      CALLER: '[field1]',
      '[service]': '[field0]',
      HOLD_MS: '100',
    },
    injection: options.calls.map(([callee, caller]) => [callee, ...credentialsRow(caller)]),
    localIp: options.address,
    target: options.target,
    rate: options.rate,
    limit: 20,
    calls: options.calls.length,
    rtt: true,
    timeoutSeconds: options.timeoutSeconds ?? 30,
  });
}
