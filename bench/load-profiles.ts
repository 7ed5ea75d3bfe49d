import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { prepareStore } from '../src/store/knex/open-store.js';
import { type LoadProfile, SIPP_PHONE, scenario, startSippServer, work } from './sipp-load.js';

/**
 * The sipp benchmarks' loads, shared by the proxy's runs (calls.ts,
 * registrations.ts) and the runtime floor's (floor.ts).
 */

/**
 * Calls from sipp as the phone (127.0.0.61) through the proxy to sipp as
 * gateways 1 and 2 (127.0.0.2, 127.0.0.3): INVITE/180/200/ACK/BYE with a
 * 1 s hold; `gateway1Scenario` is how gateway 1 answers. `authenticated`:
 * the phone answers the proxy's 407 with peer 1001's credentials
 * (uac-call-auth.xml: INVITE, 407, ACK before the rest); otherwise its
 * address is a trusted source (auth.trustedSources), as behind an SBC.
 */
export function callProfile(
  label: string,
  gateway1Scenario: string,
  options: { authenticated?: boolean } = {},
): LoadProfile {
  const authenticated = options.authenticated ?? false;
  return {
    label,
    unit: 'calls/s',
    messagesPerItem: authenticated ? 9 : 6,
    client: () =>
      authenticated
        ? {
            file: scenario('uac-call-auth.xml', { HOLD_MS: '1000', CALLER: '1001', PASSWORD: 'secret1001' }),
            args: ['-s', '01144201234567'],
          }
        : { file: scenario('uac-call.xml', { HOLD_MS: '1000' }), args: ['-s', '01144201234567'] },
    servers: () => [
      startSippServer('127.0.0.2', scenario(gateway1Scenario)),
      startSippServer('127.0.0.3', scenario('uas-answer.xml')),
    ],
    // sipp is many phones at one address: exempt from the per-source rate (limits.exemptSources), still challenged.
    proxyEnv: authenticated
      ? { DROUTER_LIMITS__EXEMPT_SOURCES: SIPP_PHONE }
      : { DROUTER_AUTH__TRUSTED_SOURCES: SIPP_PHONE },
  };
}

export const REGISTERING_USERS = 10_000;
const FIRST_USER = 20_000;

/** The `i`th of the `REGISTERING_USERS` sippeers rows: its name and secret. */
export function registeringUser(i: number): { name: string; password: string } {
  return { name: String(FIRST_USER + i), password: `pw${FIRST_USER + i}` };
}

/** A fresh SQLite file: the schema, the example data and the `REGISTERING_USERS` friend rows. */
export async function prepareUsers(file: string): Promise<void> {
  const { store } = await prepareStore(`sqlite:${file}`, { seedExample: true });
  await store.close();
  const db = new Database(file);
  const insert = db.prepare("INSERT INTO sippeers (name, type, host, secret) VALUES (?, 'friend', 'dynamic', ?)");
  db.transaction(() => {
    for (let i = 0; i < REGISTERING_USERS; i++) {
      const user = registeringUser(i);
      insert.run(user.name, user.password);
    }
  })();
  db.close();
}

/**
 * REGISTER with MD5 digest (401, then credentials, then 200) by sipp over
 * `REGISTERING_USERS` `friend` rows of `sippeers`, with rtupdate writing
 * every registration to SQLite; the time measured is from the first
 * REGISTER to the 200.
 */
export function registrationProfile(options: { rtupdate?: boolean } = {}): LoadProfile {
  const rtupdate = options.rtupdate ?? true;
  // sipp expands no keyword inside another, so each line carries its whole
  // [authentication] keyword rather than a password for the scenario to place.
  const users = join(work, 'users.csv');
  const lines = Array.from(
    { length: REGISTERING_USERS },
    (_, i) => `${FIRST_USER + i};[authentication username=${FIRST_USER + i} password=pw${FIRST_USER + i}]`,
  );
  writeFileSync(users, `SEQUENTIAL\n${lines.join('\n')}\n`);
  return {
    label: rtupdate
      ? 'REGISTER with digest, rtupdate on SQLite'
      : 'REGISTER with digest, rtupdate off (bindings in the in-process cache only)',
    unit: 'registrations/s',
    messagesPerItem: 4,
    client: () => ({ file: scenario('uac-register.xml'), args: ['-inf', users] }),
    servers: () => [],
    proxyEnv: {
      DROUTER_REGISTRAR__ALGORITHMS: 'MD5',
      DROUTER_LIMITS__EXEMPT_SOURCES: SIPP_PHONE,
      DROUTER_REGISTRAR__RTUPDATE: String(rtupdate),
    },
    prepareStore: prepareUsers,
  };
}
