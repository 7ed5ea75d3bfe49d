import { REGISTERING_USERS, registrationProfile } from './load-profiles.js';
import { announceSippBenchmark, findSustainedRates } from './sipp-load.js';

/**
 * `npm run bench` (registrations part): REGISTER with digest, rtupdate
 * on SQLite, then off (Kamailio's usrloc in memory is its anchor). The load is in load-profiles.ts, the method in sipp-load.ts.
 */
if (announceSippBenchmark('registrations', `${REGISTERING_USERS} users`)) {
  await findSustainedRates(registrationProfile(), 250);
  await findSustainedRates(registrationProfile({ rtupdate: false }), 250);
}
