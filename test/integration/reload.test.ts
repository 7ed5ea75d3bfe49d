import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execSql } from '../support/sqlite-file.js';
import { freePort, runDrouter, waitForOutput } from '../support/drouter-process.js';
import { engineEnv, testEngine } from '../support/drouter-server.js';

/** The `msg` of one of pino's JSON lines. */
const messageOf = (line: string) => (JSON.parse(line) as { msg: string }).msg;

async function health(port: number) {
  const response = await fetch(`http://127.0.0.1:${port}/health`);
  return (await response.json()) as {
    routing: { generation: number; rules: number; skipped: number; skippedRows: string[] };
    sip: { engine: string };
  };
}

describe('reload on SIGHUP', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'drouter-reload-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('skips a row OpenSIPS skips and names it; keeps the old snapshot when a value does not fit its column; swaps in a good one', async () => {
    const file = join(dir, 'drouter.db');
    const port = await freePort();
    const run = runDrouter(['start'], {
      DROUTER_STORE__URL: `sqlite:${file}`,
      DROUTER_ADMIN__PORT: String(port),
      DROUTER_SIP__PORT: String(await freePort()),
      ...engineEnv(),
    });
    try {
      await waitForOutput(run, /drouter started/);
      expect(await health(port)).toMatchObject({ routing: { generation: 1, rules: 3 }, sip: { engine: testEngine } });

      const skippedLine =
        'dr_rules row ruleid=40: column prefix = "44x": character "x" at position 3 is not a prefix character (digits; routing.extraPrefixChars adds others): row skipped';
      execSql(file, "INSERT INTO dr_rules (ruleid, groupid, prefix, gwlist) VALUES (40, '0', '44x', '1')");
      run.child.kill('SIGHUP');
      expect(messageOf(await waitForOutput(run, /routing reloaded/))).toMatch(/; 1 row skipped$/);
      expect(messageOf(await waitForOutput(run, /routing data: .*row skipped/))).toBe(`routing data: ${skippedLine}`);
      expect((await health(port)).routing).toMatchObject({
        generation: 2,
        rules: 3,
        skipped: 1,
        skippedRows: [skippedLine],
      });

      execSql(file, "UPDATE dr_rules SET priority = 'x' WHERE ruleid = 40");
      run.child.kill('SIGHUP');
      const refused = await waitForOutput(run, /routing reload refused/);
      expect(messageOf(refused)).toMatch(
        /^routing reload refused: dr_rules row ruleid=40: column priority = "x": is not an integer/,
      );
      await waitForOutput(run, /generation 2 stays in use/);
      expect((await health(port)).routing).toMatchObject({ generation: 2, rules: 3 });

      execSql(file, "UPDATE dr_rules SET prefix = '44', priority = 0 WHERE ruleid = 40");
      run.child.kill('SIGHUP');
      await waitForOutput(run, /routing reloaded: .*4 rules/);
      expect((await health(port)).routing).toMatchObject({ generation: 3, rules: 4, skipped: 0, skippedRows: [] });
    } finally {
      run.child.kill('SIGTERM');
      await run.finished;
    }
  });
});
