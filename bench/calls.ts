import { callProfile } from './load-profiles.js';
import { announceSippBenchmark, findSustainedRates } from './sipp-load.js';

/**
 * `npm run bench` (calls part): calls to gateway 1 from a trusted source,
 * the same calls answering the proxy's 407, then with gateway 1 answering
 * 503 (every call fails over). The load is in load-profiles.ts,
 * the method in sipp-load.ts.
 */
if (announceSippBenchmark('calls')) {
  await findSustainedRates(callProfile('calls to gateway 1', 'uas-answer.xml'), 100);
  await findSustainedRates(
    callProfile('calls to gateway 1, each answering a 407 (proxy authentication)', 'uas-answer.xml', {
      authenticated: true,
    }),
    100,
  );
  await findSustainedRates(callProfile('calls failing over (gateway 1 answers 503)', 'uas-503.xml'), 100);
}
