import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeDisagreement, runDifferential } from '../test/support/opensips/differential.js';

/**
 * `npm run bench -- --only opensips`: the differential against OpenSIPS
 * 3.5.9 (test/support/opensips/, the test is
 * test/integration/opensips-differential.test.ts) over more samples than
 * the test asks, printing how many numbers agreed. MariaDB from
 * DROUTER_TEST_MYSQL_URL (default root@127.0.0.1:3306/test), OpenSIPS from
 * DROUTER_TEST_OPENSIPS_DIR (default the tree .ci/run builds); skipped,
 * saying so, when there is no OpenSIPS. Options: --seeds 1-10.
 */

const DEFAULT_OPENSIPS_DIR = '/var/cache/sip-drouter/opensips/opensips-3.5.9';

function seedsOption(): number[] {
  const index = process.argv.indexOf('--seeds');
  const [first = 1, last = 10] = (index >= 0 ? (process.argv[index + 1] ?? '') : '1-10').split('-').map(Number);
  return Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);
}

const mysqlUrl = process.env.DROUTER_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const opensipsDir = process.env.DROUTER_TEST_OPENSIPS_DIR ?? DEFAULT_OPENSIPS_DIR;
if (!existsSync(join(opensipsDir, 'opensips'))) {
  console.log(
    `opensips differential: skipped, no OpenSIPS at ${opensipsDir} (../shared/vendor/build-opensips.sh OUT_DIR, then DROUTER_TEST_OPENSIPS_DIR=OUT_DIR/opensips-3.5.9)`,
  );
} else {
  console.log(
    'opensips differential: the same seeded dr_* rows loaded by OpenSIPS 3.5.9 and by us; each number and group asked of both at the same instant',
  );
  console.log('seed  rules  numbers  agreed  routed  no-gateway  no-rule  disagree  seconds');
  let asked = 0;
  let agreed = 0;
  for (const seed of seedsOption()) {
    const startedAt = performance.now();
    const result = await runDifferential({ mysqlUrl, opensipsDir, address: '127.0.0.150', port: 5060, seed });
    asked += result.asked;
    agreed += result.agreed;
    const { routed, 'no-gateway': noGateway, 'no-rule': noRule } = result.outcomes;
    const cells = [
      seed,
      result.sample.rules.length,
      result.asked,
      result.agreed,
      routed,
      noGateway,
      noRule,
      result.disagreements.length,
    ];
    console.log(
      `${cells.map((cell, i) => String(cell).padStart(i === 0 ? 4 : ([5, 7, 6, 6, 10, 7, 8][i - 1] ?? 6))).join('  ')}  ${((performance.now() - startedAt) / 1000).toFixed(1).padStart(7)}`,
    );
    for (const disagreement of result.disagreements.slice(0, 3))
      console.log(describeDisagreement(result.sample, disagreement));
  }
  console.log(`opensips differential: ${agreed} of ${asked} numbers agreed`);
}
