import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../support/drouter-process.js';
import { REPO_ROOT } from '../support/repo-root.js';
import { runGuide } from '../support/guide-runner.js';
import { describeUnless } from '../support/skip-reason.js';
import { execSql } from '../support/sqlite-file.js';
import { type GuideServer, startGuideServer } from '../support/guide-server.js';
import { alertExpressions, dashboardQueries } from '../support/shipped-queries.js';
import { waitFor } from '../support/wait-for.js';

const GUIDE = 'docs/guides/monitoring.md';
const SIP_ADDRESS = '127.0.0.129';
const TOKEN = 'guide-token-0123456789';
/** The runtime gauges prom-client names `…_total` (see the guide, step 4): promtool's only complaints. */
const RUNTIME_TOTAL_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** '' where promtool and prometheus (Debian's `prometheus`) are there; else why not, or a failure where CI said they must be (DROUTER_TEST_PROMTOOL set). */
function promtoolMissing(): string {
  if (['promtool', 'prometheus'].every((binary) => spawnSync(binary, ['--version']).error === undefined)) return '';
  if (process.env.DROUTER_TEST_PROMTOOL)
    throw new Error(
      'DROUTER_TEST_PROMTOOL is set but promtool or prometheus is not installed (apt-get install prometheus)',
    );
  return 'promtool or prometheus is not installed (apt-get install prometheus)';
}

function promtool(args: string[], input = ''): { code: number | null; output: string } {
  const run = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: 20_000 });
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
}

describeUnless(promtoolMissing())(`${GUIDE} with promtool and Prometheus`, () => {
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
    const site = {
      PROMETHEUS_DIR: mkdtempSync(join(dir, 'etc-prometheus-')),
      ADMIN_URL: server.adminUrl,
      ADMIN_TOKEN: TOKEN,
    };
    const steps = await runGuide(GUIDE, { site });
    expect(steps.map((step) => step.block.kind)).toEqual(['sh', 'sh', 'sh']);
    // Without the token the scrape is refused: the token file is what lets Prometheus in.
    expect((await fetch(`${server.adminUrl}/metrics`)).status).toBe(401);
  });

  it('promtool check metrics on a real scrape: nothing of ours, only the three runtime gauges prom-client names …_total', async () => {
    const scrape = await (
      await fetch(`${server.adminUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    expect(scrape).toMatch(/^sipdr_gateway_up\{gateway="1"\} 1$/m);
    const checked = promtool(['check', 'metrics'], scrape);
    const problems = checked.output
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => line.split(' ')[0]);
    expect({ code: checked.code, problems }).toEqual({ code: 3, problems: RUNTIME_TOTAL_GAUGES });
  });

  it("every query of the dashboard and of the alert rules is PromQL promtool accepts (Grafana's variables given values)", () => {
    const { expressions } = dashboardQueries();
    const asPromql = (expression: string) =>
      expression.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*');
    const rules = {
      groups: [
        {
          name: 'dashboard',
          rules: [...expressions, ...alertExpressions()].map((expression, index) => ({
            record: `check:query_${index}`,
            expr: asPromql(expression),
          })),
        },
      ],
    };
    const file = join(dir, 'queries.yml');
    writeFileSync(file, stringify(rules));
    const checked = promtool(['check', 'rules', file]);
    expect(checked.output).toContain(`SUCCESS: ${rules.groups[0]?.rules.length} rules found`);
    expect(checked.code).toBe(0);
  });

  it('a real Prometheus on the shipped files scrapes the node with the token, loads the 13 rules, and fires SipDrouterReloadFailed when a reload is refused', async () => {
    const etc = mkdtempSync(join(dir, 'prometheus-'));
    for (const file of ['sip-drouter-alerts.yml'])
      copyFileSync(join(REPO_ROOT, 'config', 'prometheus', file), join(etc, file));
    writeFileSync(join(etc, 'sip-drouter.token'), TOKEN);
    // The shipped configuration with this node as its target (the guide's edit), scraped and evaluated every second instead of 15 (the test's).
    const config = parse(readFileSync(join(REPO_ROOT, 'config', 'prometheus', 'prometheus.yml'), 'utf8')) as {
      global: Record<string, string>;
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' };
    const [job] = config.scrape_configs;
    if (!job) throw new Error('config/prometheus/prometheus.yml has no scrape job');
    job.static_configs = [{ targets: [new URL(server.adminUrl).host] }];
    writeFileSync(join(etc, 'prometheus.yml'), stringify(config));
    const web = `127.0.0.1:${await freePort()}`;
    const prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(etc, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(etc, 'data')}`,
        `--web.listen-address=${web}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    prometheus.stderr.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
    const api = async <T>(path: string): Promise<T> =>
      ((await (await fetch(`http://${web}/api/v1/${path}`)).json()) as { data: T }).data;
    try {
      const target = await waitFor(
        'Prometheus to scrape the node',
        20_000,
        async () => {
          const { activeTargets } = await api<{
            activeTargets: { health: string; lastError: string; labels: Record<string, string> }[];
          }>('targets');
          return activeTargets.find((each) => each.health === 'up');
        },
        { detail: () => log.slice(-2000) },
      );
      expect(target.labels).toMatchObject({ job: 'sip-drouter' });
      const { result } = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
        'query?query=sipdr_gateway_up',
      );
      expect(result.map((series) => [series.metric.gateway, series.value[1]]).sort()).toEqual([
        ['1', '1'],
        ['2', '1'],
      ]);
      const { groups } = await api<{ groups: { rules: { name: string; health: string }[] }[] }>('rules');
      expect(
        groups.flatMap((group) => group.rules).filter((rule) => rule.health !== 'unknown' && rule.health !== 'ok'),
      ).toEqual([]);
      expect(groups.flatMap((group) => group.rules)).toHaveLength(13);

      // A reload the rows refuse: one scrape before with failed = 0 has been taken above, one after counts it.
      execSql(join(dir, 'drouter.db'), "UPDATE dr_rules SET priority = 'x' WHERE ruleid = 1");
      expect(
        (
          await fetch(`${server.adminUrl}/reload`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: '{}',
          })
        ).status,
      ).toBe(422);
      const alert = await waitFor(
        'SipDrouterReloadFailed to fire',
        20_000,
        async () => {
          const { alerts } = await api<{ alerts: { labels: Record<string, string>; state: string }[] }>('alerts');
          return alerts.find((each) => each.labels.alertname === 'SipDrouterReloadFailed' && each.state === 'firing');
        },
        { detail: () => log.slice(-2000) },
      );
      expect(alert.labels).toMatchObject({ severity: 'warning', job: 'sip-drouter', result: 'failed' });
    } finally {
      prometheus.kill('SIGTERM');
      await new Promise((resolve) => prometheus.once('exit', resolve));
    }
  }, 60_000);
});
