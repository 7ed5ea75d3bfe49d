import { announceSippBenchmark, findSustainedRates, type LoadProfile, scenario, startSippServer } from './sipp-load.js';

/**
 * `npm run bench` (calls part): sipp as the phone (127.0.0.61) and as the
 * gateways (127.0.0.2, 127.0.0.3): calls INVITE/180/200/ACK/BYE with a 1 s
 * hold, to gateway 1, then with gateway 1 answering 503 (every call fails
 * over). The method is in sipp-load.ts.
 */
function callProfile(label: string, gateway1Scenario: string): LoadProfile {
  return {
    label,
    unit: 'calls/s',
    messagesPerItem: 6,
    client: () => ({ file: scenario('uac-call.xml', { HOLD_MS: '1000' }), args: ['-s', '01144201234567'] }),
    servers: () => [startSippServer('127.0.0.2', scenario(gateway1Scenario)), startSippServer('127.0.0.3', scenario('uas-answer.xml'))],
    proxyEnv: {},
  };
}

if (announceSippBenchmark('calls')) {
  await findSustainedRates(callProfile('calls to gateway 1', 'uas-answer.xml'), 100);
  await findSustainedRates(callProfile('calls failing over (gateway 1 answers 503)', 'uas-503.xml'), 100);
}
