import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openEmptyStore, prefixesOf } from './generate-rules.js';
import { kamailioCommand, kamailioConfigProblem, kamailioVersion, prepareKamailioTables } from './kamailio.js';
import { callProfile } from './load-profiles.js';
import { announceSippBenchmark, findSustainedRates, type LoadProfile, scenario, work } from './sipp-load.js';

/**
 * `npm run bench` (million part): calls routed through 1 000 000 rules
 * (`--rules N` for another count), by the method of bench/sipp-load.ts,
 * through the proxy and through Kamailio's drouting with the same rules:
 * scattered 8-digit prefixes (a carrier's rate deck), every rule to gateway
 * 1 then gateway 2, the phone (a trusted source) dialling 10 000 numbers
 * that each fall under a different rule (prefix + 4 digits). The proxy's
 * peak RSS is the row's memory figure; Kamailio's memory pools are sized
 * (-m, -M) for its table. Every step waits for the start (the rules are read
 * from SQLite first: seconds for us, tens of seconds for Kamailio).
 */

const RULES = process.argv.includes('--rules') ? Number(process.argv[process.argv.indexOf('--rules') + 1]) : 1_000_000;
const NUMBERS = 10_000;
/** Kamailio's drouting reads the whole dr_rules table into one worker's private memory, then builds its tree in shared memory. */
const KAMAILIO_MEMORY = { sharedMb: 4096, privateMb: 2048 };

/** The proxy's SQLite file: two gateways (as the example's), every prefix a rule of group 1 to gateways 1 then 2. */
async function writeOurRules(file: string, prefixes: readonly string[]): Promise<void> {
  const db = await openEmptyStore(file);
  const insertGateway = db.prepare('INSERT INTO dr_gateways (gwid, type, address, probe_mode) VALUES (?, 1, ?, 2)');
  const insertRule = db.prepare(
    "INSERT INTO dr_rules (groupid, prefix, priority, gwlist, sort_alg) VALUES ('1', ?, 0, '1,2', 'N')",
  );
  db.transaction(() => {
    insertGateway.run('1', '127.0.0.2:5060');
    insertGateway.run('2', '127.0.0.3:5060');
    for (const prefix of prefixes) insertRule.run(prefix);
  })();
  db.close();
}

/** sipp's injection file: one number a line, under a rule picked at random (seeded, the same each run). */
function writeNumbers(file: string, prefixes: readonly string[]): void {
  let state = 99;
  const numbers = Array.from({ length: NUMBERS }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return `${prefixes[state % prefixes.length] ?? ''}1234`;
  });
  writeFileSync(file, `RANDOM\n${numbers.join('\n')}\n`);
}

if (announceSippBenchmark('million', `${RULES} rules, ${NUMBERS} numbers dialled`)) {
  const prefixes = prefixesOf('scattered', RULES);
  const ours = join(work, `million-${RULES}.db`);
  if (!existsSync(ours)) await writeOurRules(ours, prefixes);
  const numbers = join(work, 'million-numbers.csv');
  writeNumbers(numbers, prefixes);
  const base = callProfile(`calls through ${RULES} rules`, 'uas-answer.xml');
  const profile: LoadProfile = {
    ...base,
    client: () => ({
      file: scenario('uac-call.xml', { HOLD_MS: '1000', '[service]': '[field0]' }),
      args: ['-inf', numbers],
    }),
    prepareStore: async (file) => copyFileSync(ours, file),
    // The caller is in no dr_groups row: routing.defaultGroup puts it in group 1.
    proxyEnv: { ...base.proxyEnv, DROUTER_ROUTING__DEFAULT_GROUP: '1' },
    startsWithinMs: 120_000,
  };
  await findSustainedRates(profile, 1000);
  const version = kamailioVersion();
  if (!version)
    console.log(
      'million: kamailio is not installed (apt-get install kamailio kamailio-sqlite-modules): its run skipped',
    );
  else {
    const kamailioDb = join(work, `million-kamailio-${RULES}.db`);
    if (!existsSync(kamailioDb)) prepareKamailioTables(kamailioDb, { prefixes });
    const standIn = {
      name: `Kamailio ${version}`,
      command: kamailioCommand('calls.cfg', kamailioDb, [], KAMAILIO_MEMORY),
    } as const;
    const problem = kamailioConfigProblem(standIn.command);
    if (problem) console.log(`million: the Kamailio configuration does not load: ${problem}; its run skipped`);
    else
      await findSustainedRates({ ...profile, label: `anchor: calls through ${RULES} rules, drouting`, standIn }, 1000);
  }
}
