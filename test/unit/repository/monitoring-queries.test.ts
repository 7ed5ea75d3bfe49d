import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/metrics/metrics.js';
import { REPO_ROOT } from '../../support/repo-root.js';
import { parseExposition } from '../../support/exposition.js';
import { queryNames } from '../../support/promql-names.js';
import { ALERTS, alertExpressions, DASHBOARD, dashboardQueries } from '../../support/shipped-queries.js';

/**
 * Every query of the Grafana dashboard and of the alert rules uses a metric
 * the server exports, with labels it has: a metric renamed or a label
 * dropped fails here, not on an operator's empty panel or silent alert.
 */

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid: string };
}

/** Labels Prometheus adds to every scraped series; `le` is a histogram bucket's. */
const TARGET_LABELS = ['job', 'instance'];
/** Prometheus's own series of each target. */
const PROMETHEUS_SERIES: Readonly<Record<string, string[]>> = { up: [] };

/** Each series name the server exposes, with its labels: the sipdr_* metrics as described, the runtime's from a scrape. */
async function exported(): Promise<Map<string, string[]>> {
  const metrics = new Metrics();
  const series = new Map<string, string[]>(Object.entries(PROMETHEUS_SERIES));
  for (const family of parseExposition((await metrics.exposition()).text).values()) {
    series.set(family.name, [...new Set(family.samples.flatMap((sample) => Object.keys(sample.labels)))]);
  }
  for (const { name, type, labels } of metrics.describe()) {
    const names = type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
    for (const each of names) series.set(each, [...labels, ...(each.endsWith('_bucket') ? ['le'] : [])]);
  }
  return series;
}

/** What an expression uses that the server does not export: unknown metrics, labels a metric lacks, grouping labels none of its metrics has. */
function unknownNames(expression: string, series: Map<string, string[]>): string[] {
  const { metrics, matchers, grouping } = queryNames(expression);
  const problems = metrics.filter((metric) => !series.has(metric)).map((metric) => `metric ${metric}`);
  for (const { metric, labels } of matchers) {
    problems.push(
      ...labels
        .filter((label) => !TARGET_LABELS.includes(label) && !(series.get(metric) ?? []).includes(label))
        .map((label) => `label ${label} of ${metric}`),
    );
  }
  const known = new Set([...TARGET_LABELS, ...metrics.flatMap((metric) => series.get(metric) ?? [])]);
  problems.push(...grouping.filter((label) => !known.has(label)).map((label) => `grouping label ${label}`));
  return problems.map((problem) => `${problem} in ${expression}`);
}

describe('the queries shipped in config/ use the metrics the server exports', () => {
  it(`${DASHBOARD}: every panel query and variable`, async () => {
    const series = await exported();
    const { expressions, variables } = dashboardQueries();
    expect(expressions.length).toBeGreaterThan(20);
    expect(expressions.flatMap((expression) => unknownNames(expression, series))).toEqual([]);
    expect(
      variables.filter(
        ({ metric, label }) =>
          !series.has(metric) || ![...TARGET_LABELS, ...(series.get(metric) ?? [])].includes(label),
      ),
    ).toEqual([]);
    // The areas an operator looks for, each on a panel.
    const used = new Set(expressions.flatMap((expression) => queryNames(expression).metrics));
    const areas = [
      'sipdr_gateway_state',
      'sipdr_probe_rtt_seconds_bucket',
      'sipdr_routing_decisions_total',
      'sipdr_failovers_total',
      'sipdr_registrations_total',
      'sipdr_requests_dropped_total',
      'sipdr_bans_total',
      'sipdr_requests_shed_total',
      'sipdr_reloads_total',
    ];
    expect(areas.filter((metric) => !used.has(metric))).toEqual([]);
  });

  it(`${DASHBOARD}: a layout Grafana can place (Grafana does not run here)`, () => {
    const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, DASHBOARD), 'utf8')) as {
      panels: Panel[];
      templating: { list: { name: string }[] };
    };
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(
      dashboard.panels.filter(
        ({ gridPos }) => gridPos.x < 0 || gridPos.w < 1 || gridPos.x + gridPos.w > 24 || gridPos.h < 1,
      ),
    ).toEqual([]);
    const overlapping = dashboard.panels.flatMap((a, index) =>
      dashboard.panels
        .slice(index + 1)
        .filter(
          (b) =>
            a.gridPos.x < b.gridPos.x + b.gridPos.w &&
            b.gridPos.x < a.gridPos.x + a.gridPos.w &&
            a.gridPos.y < b.gridPos.y + b.gridPos.h &&
            b.gridPos.y < a.gridPos.y + a.gridPos.h,
        )
        .map((b) => `${a.title} / ${b.title}`),
    );
    expect(overlapping).toEqual([]);
    // Every query panel reads the data source the dashboard asks for at import.
    const variables = dashboard.templating.list.map((variable) => variable.name);
    expect(variables).toContain('datasource');
    expect(
      dashboard.panels
        .filter((panel) => panel.type !== 'row' && panel.datasource?.uid !== '${datasource}')
        .map((panel) => panel.title),
    ).toEqual([]);
  });

  it(`${ALERTS}: every rule`, async () => {
    const series = await exported();
    const expressions = alertExpressions();
    expect(expressions.length).toBeGreaterThan(10);
    expect(expressions.flatMap((expression) => unknownNames(expression, series))).toEqual([]);
  });

  it('reads names as PromQL has them (the checks above fail on a renamed metric or label)', () => {
    const names = queryNames(
      'sum by (gateway, le) (rate(sipdr_probe_rtt_seconds_bucket{instance=~"$instance", le!="+Inf"}[$__rate_interval])) > 0.95e3 unless on (job) up == 0',
    );
    expect(names).toEqual({
      metrics: ['sipdr_probe_rtt_seconds_bucket', 'up'],
      matchers: [{ metric: 'sipdr_probe_rtt_seconds_bucket', labels: ['instance', 'le'] }],
      grouping: ['gateway', 'le', 'job'],
    });
  });
});
