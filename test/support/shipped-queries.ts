import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './repo-root.js';

/** The PromQL we ship: the Grafana dashboard's queries and the alert rules'. */

export const DASHBOARD = 'config/grafana/sip-drouter.json';
export const ALERTS = 'config/prometheus/sip-drouter-alerts.yml';

/** Every query of the dashboard: the panels' exprs and the variables' label_values(metric, label). */
export function dashboardQueries(): { expressions: string[]; variables: { metric: string; label: string }[] } {
  const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, DASHBOARD), 'utf8')) as {
    panels: { targets?: { expr: string }[] }[];
    templating: { list: { type: string; query: unknown }[] };
  };
  const expressions = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
  const variables = dashboard.templating.list
    .filter((variable) => variable.type === 'query')
    .map((variable) => {
      const query = JSON.stringify(variable.query);
      const match = /label_values\((\w+), *(\w+)\)/.exec(query);
      if (!match) throw new Error(`${DASHBOARD}: the variable query ${query} is not label_values(metric, label)`);
      return { metric: match[1] ?? '', label: match[2] ?? '' };
    });
  return { expressions, variables };
}

export function alertExpressions(): string[] {
  const rules = parse(readFileSync(join(REPO_ROOT, ALERTS), 'utf8')) as { groups: { rules: { expr: string }[] }[] };
  return rules.groups.flatMap((group) => group.rules.map((rule) => rule.expr));
}
