import { expect, it } from 'vitest';
import { MYSQL_TEST_URL } from '../support/databases.js';
import { describeDisagreement, runDifferential } from '../support/opensips/differential.js';
import { DEFAULT_SAMPLE_SIZE } from '../support/opensips/drouting-sample.js';
import { OPENSIPS_DIR, opensipsMissing } from '../support/opensips/opensips-process.js';
import { describeUnless } from '../support/skip-reason.js';

/**
 * Our routing against OpenSIPS 3.5.9 itself (docs/routing.md, "Checked against
 * OpenSIPS"): the same seeded drouting rows, written with OpenSIPS's own
 * DDL into MariaDB, loaded by both; for each generated number and group,
 * the rule and the gateways (in order where every sort involved is N, else
 * as a set, with each gateway's carrier and rewritten Request-URI user)
 * must agree. Needs DROUTER_TEST_MYSQL_URL and a built OpenSIPS
 * (DROUTER_TEST_OPENSIPS_DIR); skipped without them, unless
 * DROUTER_TEST_OPENSIPS is set (as .ci/run sets it): then missing is a failure.
 */
const SEEDS = [1, 2, 3];

describeUnless(opensipsMissing())('routing decisions against OpenSIPS 3.5.9 on the same rows', () => {
  it.each(SEEDS)(
    'agree on 2 000 numbers and groups of sample %i, with and without strict length (rule, gateways, carriers, Request-URI users)',
    async (seed) => {
      const result = await runDifferential({
        mysqlUrl: MYSQL_TEST_URL ?? '',
        opensipsDir: OPENSIPS_DIR ?? '',
        address: '127.0.0.150',
        port: 5060,
        seed,
        size: { ...DEFAULT_SAMPLE_SIZE, questions: 2000 },
      });
      const shown = result.disagreements
        .slice(0, 5)
        .map((disagreement) => describeDisagreement(result.sample, disagreement));
      expect(
        result.disagreements.length,
        `${result.disagreements.length} of ${result.asked} disagree; the first:\n${shown.join('\n\n')}`,
      ).toBe(0);
      expect(result.agreed).toBe(result.sample.questions.length);
      // The sample reaches each outcome, so a side answering one thing always could not pass.
      expect(result.outcomes.routed).toBeGreaterThan(result.asked / 4);
      expect(result.outcomes['no-gateway']).toBeGreaterThan(0);
      expect(result.outcomes['no-rule']).toBeGreaterThan(0);
    },
    120_000,
  );
});
