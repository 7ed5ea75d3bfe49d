import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  kamailioCommand,
  kamailioConfigProblem,
  kamailioVersion,
  prepareKamailioTables,
  USRLOC_DDL,
} from './kamailio.js';
import { callProfile, REGISTERING_USERS, registrationProfile } from './load-profiles.js';
import { announceSippBenchmark, findSustainedRates, work } from './sipp-load.js';

/**
 * `npm run bench` (anchor part): Kamailio 5.6 in the proxy's place, by the
 * same method and loads (bench/sipp-load.ts, bench/load-profiles.ts) on the
 * same machine in the same run, so that the issues' anchor figures are
 * measured here rather than quoted: calls (gateway 1 answers), failover
 * calls (gateway 1 answers 503, gateway 2 takes the call), calls answering
 * a 407 (proxy_authorize) and REGISTER with digest over the same users.
 * Their tables (drouting's gateways and rule, the subscriber table of
 * auth_db) are in a SQLite file written here (bench/kamailio.ts). Kamailio
 * runs as `kamailio -DD` on core 0: its main process stays the one the
 * harness spawned, the workers are its children (their CPU is counted with
 * it) and stop with it. Without Kamailio (apt-get install kamailio
 * kamailio-sqlite-modules) the part says so and is skipped.
 */

const FIRST_USER = 20_000;

const version = kamailioVersion();
if (!version) {
  console.log(
    'anchor benchmark: kamailio is not installed (apt-get install kamailio kamailio-sqlite-modules); skipped',
  );
} else if (announceSippBenchmark('anchor', `Kamailio ${version}, 1 UDP worker, ${REGISTERING_USERS} users`)) {
  const dbFile = join(work, 'kamailio-anchor.db');
  const users = Array.from(
    { length: REGISTERING_USERS },
    (_, i) => [String(FIRST_USER + i), `pw${FIRST_USER + i}`] as const,
  );
  // The caller of the authenticated calls (callProfile's `authenticated`: peer 1001 in the proxy's example data).
  prepareKamailioTables(dbFile, { subscribers: [...users, ['1001', 'secret1001']] });
  const name = `Kamailio ${version}`;
  const calls = { name, command: kamailioCommand('calls.cfg', dbFile) } as const;
  const authCalls = { name, command: kamailioCommand('calls.cfg', dbFile, ['AUTH']) } as const;
  const registrar = { name, command: kamailioCommand('registrations.cfg', dbFile) } as const;
  const writeThrough = { name, command: kamailioCommand('registrations.cfg', dbFile, ['UL_DB_MODE=1']) } as const;
  // The configurations must load before any step counts on them.
  const problem = [calls, authCalls, registrar].map((standIn) => kamailioConfigProblem(standIn.command)).find(Boolean);
  if (problem) {
    console.log(
      `anchor benchmark: the Kamailio configurations do not load (apt-get install kamailio-sqlite-modules?): ${problem}; skipped`,
    );
  } else {
    await findSustainedRates(
      { ...callProfile('anchor: calls, drouting to gateway 1', 'uas-answer.xml'), standIn: calls },
      1000,
    );
    await findSustainedRates(
      { ...callProfile('anchor: failover calls, gateway 1 answers 503', 'uas-503.xml'), standIn: calls },
      1000,
    );
    await findSustainedRates(
      {
        ...callProfile('anchor: calls answering a 407, proxy_authorize with auth_db on SQLite', 'uas-answer.xml', {
          authenticated: true,
        }),
        standIn: authCalls,
      },
      1000,
    );
    await findSustainedRates(
      {
        ...registrationProfile(),
        label: 'anchor: REGISTER with digest, auth_db on SQLite, usrloc in memory',
        prepareStore: undefined,
        standIn: registrar,
      },
      2000,
    );
    if (existsSync(USRLOC_DDL)) {
      await findSustainedRates(
        {
          ...registrationProfile(),
          label: 'anchor: REGISTER with digest, auth_db on SQLite, usrloc db_mode 1 (write-through to SQLite)',
          prepareStore: undefined,
          standIn: writeThrough,
        },
        500,
      );
    } else
      console.log(
        `anchor: usrloc write-through skipped: ${USRLOC_DDL} is missing (apt-get install kamailio-sqlite-modules)`,
      );
  }
}
