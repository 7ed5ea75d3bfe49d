import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { prepareStore } from '../src/store/knex/open-store.js';
import { announceSippBenchmark, findSustainedRates, scenario, work } from './sipp-load.js';

/**
 * `npm run bench` (registrations part): REGISTER with MD5 digest (401, then
 * credentials, then 200) by sipp over 10 000 users of `sippeers`, with
 * rtupdate writing every registration to SQLite. The method is in
 * sipp-load.ts; the time measured is from the first REGISTER to the 200.
 */
const USERS = 10_000;
const FIRST = 20_000;

async function prepareUsers(file: string): Promise<void> {
  const { store } = await prepareStore(`sqlite:${file}`, { seedExample: true });
  await store.close();
  const db = new Database(file);
  const insert = db.prepare("INSERT INTO sippeers (name, type, host, secret) VALUES (?, 'friend', 'dynamic', ?)");
  db.transaction(() => {
    for (let i = 0; i < USERS; i++) insert.run(String(FIRST + i), `pw${FIRST + i}`);
  })();
  db.close();
}

if (announceSippBenchmark('registrations', `${USERS} users`)) {
  // sipp expands no keyword inside another, so each line carries its whole
  // [authentication] keyword rather than a password for the scenario to place.
  const users = join(work, 'users.csv');
  writeFileSync(users, `SEQUENTIAL\n${Array.from({ length: USERS }, (_, i) => `${FIRST + i};[authentication username=${FIRST + i} password=pw${FIRST + i}]`).join('\n')}\n`);
  await findSustainedRates(
    {
      label: 'REGISTER with digest, rtupdate on SQLite',
      unit: 'registrations/s',
      messagesPerItem: 4,
      client: () => ({ file: scenario('uac-register.xml'), args: ['-inf', users] }),
      servers: () => [],
      proxyEnv: { DROUTER_REGISTRAR__ALGORITHMS: 'MD5' },
      prepareStore: prepareUsers,
    },
    250,
  );
}
