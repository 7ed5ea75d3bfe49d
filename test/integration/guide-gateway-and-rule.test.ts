import { describe, expect } from 'vitest';
import { databaseKinds } from '../support/databases.js';
import { clientMissing, databaseClient, runGuide } from '../support/guide-runner.js';
import { startGuideServer } from '../support/guide-server.js';
import { itUnless } from '../support/skip-reason.js';

const GUIDE = 'docs/guides/gateway-and-rule.md';
/** Each database's server on its own address. */
const SIP_ADDRESS = { sqlite: '127.0.0.124', mysql: '127.0.0.125' } as const;

describe.each(databaseKinds())(`${GUIDE}, followed to the letter on $name`, (kind) => {
  itUnless(clientMissing(kind.name))(
    'the rows typed, drouter route changes at drouter reload and not before',
    async () => {
      const database = await kind.create('guide_gw');
      const server = await startGuideServer(database.url, SIP_ADDRESS[kind.name]);
      try {
        const steps = await runGuide(GUIDE, {
          site: { DROUTER_CONFIG: server.configFile },
          sqlClient: databaseClient(database.url),
        });
        expect(steps.map((step) => step.block.kind)).toEqual(['sh', 'sql', 'sh', 'sh', 'sh', 'sh', 'sh']);
        // The rows as the guide's SQL left them, read back from the database.
        expect(await database.exec("SELECT gwid, address, strip FROM dr_gateways WHERE gwid = 'carrier-b'")).toEqual([
          { gwid: 'carrier-b', address: '192.0.2.10:5060', strip: 3 },
        ]);
        expect(await database.exec("SELECT groupid, prefix, gwlist FROM dr_rules WHERE gwlist = 'carrier-b'")).toEqual([
          { groupid: '0', prefix: '01144', gwlist: 'carrier-b' },
        ]);
        // And the server routes by them: its own answer, not the CLI's printing of it.
        const route = (await (await fetch(`${server.adminUrl}/route?number=011442079460000&group=0`)).json()) as {
          ruleId: number;
          destinations: { gwid: string; uri: string }[];
        };
        expect({
          ruleId: route.ruleId,
          destinations: route.destinations.map(({ gwid, uri }) => ({ gwid, uri })),
        }).toEqual({ ruleId: 4, destinations: [{ gwid: 'carrier-b', uri: 'sip:442079460000@192.0.2.10:5060' }] });
      } finally {
        await server.close();
        await database.drop();
      }
    },
  );
});
