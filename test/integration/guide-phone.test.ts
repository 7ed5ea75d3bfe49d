import { describe, expect } from 'vitest';
import { databaseKinds } from '../support/databases.js';
import { clientMissing, databaseClient, runGuide } from '../support/guide-runner.js';
import { startGuideServer } from '../support/guide-server.js';
import { sippMissing } from '../support/sipp.js';
import { itUnless, titleUnless } from '../support/skip-reason.js';

const GUIDE = 'docs/guides/phone.md';
/** Each database's server on its own address; the sipp phone on another. */
const SIP_ADDRESS = { sqlite: '127.0.0.126', mysql: '127.0.0.128' } as const;
const PHONE_ADDRESS = '127.0.0.127';
const SIPP_MISSING = sippMissing();

describe.skipIf(SIPP_MISSING !== '').each(databaseKinds())(
  titleUnless(`${GUIDE}, followed to the letter on $name`, SIPP_MISSING),
  (kind) => {
    itUnless(clientMissing(kind.name))(
      'the row typed, sipp registers with its secret (401, then 200), drouter peers and peer show it',
      async () => {
        const database = await kind.create('guide_phone');
        const server = await startGuideServer(database.url, SIP_ADDRESS[kind.name]);
        try {
          const site = {
            DROUTER_CONFIG: server.configFile,
            SIP_SERVER: `${server.sip.address}:${server.sip.port}`,
            PHONE_ADDRESS,
          };
          const steps = await runGuide(GUIDE, { site, sqlClient: databaseClient(database.url) });
          expect(steps.map((step) => step.block.kind)).toEqual(['sql', 'sh', 'sh', 'sh', 'sh']);
          // The realtime row as the registrar wrote it, read back from the database.
          const [row] = await database.exec(
            "SELECT ipaddr, port, fullcontact, useragent, regseconds FROM sippeers WHERE name = '2001'",
          );
          expect(row).toMatchObject({
            ipaddr: PHONE_ADDRESS,
            port: 5060,
            fullcontact: `sip:2001@${PHONE_ADDRESS}:5060`,
            useragent: 'sipp',
          });
          expect(Number(row?.regseconds) - Date.now() / 1000).toBeGreaterThan(200);
        } finally {
          await server.close();
          await database.drop();
        }
      },
    );
  },
);
