import { join } from 'node:path';
import { callProfile, REGISTERING_USERS, registrationProfile } from './load-profiles.js';
import { announceSippBenchmark, findSustainedRates, PROXY } from './sipp-load.js';

/**
 * `npm run bench` (floor part): the calls and registrations loads carried
 * by floor-server.ts, a bare Node.js `dgram` process with no SIP stack, in
 * the proxy's place and by the same method: the most any Node.js process on
 * one core can carry this way, beside which the proxy's figures and the
 * anchors' read.
 */
const floorServer = join(import.meta.dirname, 'floor-server.js');
const name = 'bare Node.js, no SIP stack';
if (announceSippBenchmark('runtime floor', `${REGISTERING_USERS} users`)) {
  const relay = {
    name,
    command: [process.execPath, floorServer, PROXY.address, String(PROXY.port), '127.0.0.2', '5060'],
  } as const;
  await findSustainedRates(
    { ...callProfile('runtime floor: calls relayed to gateway 1', 'uas-answer.xml'), standIn: relay },
    100,
  );
  const responder = { name, command: [process.execPath, floorServer, PROXY.address, String(PROXY.port)] } as const;
  await findSustainedRates(
    { ...registrationProfile(), label: 'runtime floor: REGISTER answered 401, then 200', standIn: responder },
    250,
  );
}
