import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGuide } from '../support/guide-runner.js';
import { type GuideServer, startGuideServer } from '../support/guide-server.js';
import { alertExpressions, dashboardQueries } from '../support/shipped-queries.js';

const GUIDE = 'docs/guides/monitoring.md';
const SIP_ADDRESS = '127.0.0.129';
const TOKEN = 'guide-token-0123456789';
/** The runtime gauges prom-client names `…_total` (see the guide, step 4): promtool's only complaints. */
const RUNTIME_TOTAL_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** promtool (Debian's `prometheus`) is there, or CI said it must be (DROUTER_TEST_PROMTOOL set: missing = failure). */
function promtoolAvailable(): boolean {
  const found = spawnSync('promtool', ['--version']).error === undefined;
  if (!found && process.env.DROUTER_TEST_PROMTOOL) throw new Error('DROUTER_TEST_PROMTOOL is set but promtool is not installed (apt-get install prometheus)');
  return found;
}

function promtool(args: string[], input = ''): { code: number | null; output: string } {
  const run = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: 20_000 });
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
}

const PROMTOOL = promtoolAvailable();

describe.runIf(PROMTOOL)(`${GUIDE} with promtool${PROMTOOL ? '' : ' (skipped: promtool is not installed)'}`, () => {
  let server: GuideServer;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'drouter-prometheus-'));
    server = await startGuideServer(`sqlite:${join(dir, 'drouter.db')}`, SIP_ADDRESS, { admin: { token: TOKEN } });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the files copied, checked (promtool check config, test rules) and the scrape read with the token', async () => {
    const site = { PROMETHEUS_DIR: mkdtempSync(join(dir, 'etc-prometheus-')), ADMIN_URL: server.adminUrl, ADMIN_TOKEN: TOKEN };
    const steps = await runGuide(GUIDE, { site });
    expect(steps.map((step) => step.block.kind)).toEqual(['sh', 'sh', 'sh']);
    // Without the token the scrape is refused: the token file is what lets Prometheus in.
    expect((await fetch(`${server.adminUrl}/metrics`)).status).toBe(401);
  });

  it('promtool check metrics on a real scrape: nothing of ours, only the three runtime gauges prom-client names …_total', async () => {
    const scrape = await (await fetch(`${server.adminUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    expect(scrape).toMatch(/^sipdr_gateway_up\{gateway="1"\} 1$/m);
    const checked = promtool(['check', 'metrics'], scrape);
    const problems = checked.output.split('\n').filter((line) => line.trim() !== '').map((line) => line.split(' ')[0]);
    expect({ code: checked.code, problems }).toEqual({ code: 3, problems: RUNTIME_TOTAL_GAUGES });
  });

  it("every query of the dashboard and of the alert rules is PromQL promtool accepts (Grafana's variables given values)", () => {
    const { expressions } = dashboardQueries();
    const asPromql = (expression: string) => expression.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*');
    const rules = { groups: [{ name: 'dashboard', rules: [...expressions, ...alertExpressions()].map((expression, index) => ({ record: `check:query_${index}`, expr: asPromql(expression) })) }] };
    const file = join(dir, 'queries.yml');
    writeFileSync(file, stringify(rules));
    const checked = promtool(['check', 'rules', file]);
    expect(checked.output).toContain(`SUCCESS: ${rules.groups[0]?.rules.length} rules found`);
    expect(checked.code).toBe(0);
  });
});
