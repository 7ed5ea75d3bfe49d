/**
 * The metric names and label names a PromQL expression uses, read well
 * enough for the queries we ship (config/grafana, config/prometheus): string
 * literals and ranges are dropped, `name{matchers}` gives a metric and the
 * labels it matches on, `by (…)`, `on (…)` … give grouping labels, and any
 * other identifier not followed by `(` (a function) nor a keyword is a
 * metric. Grafana's variables ($instance, $__rate_interval) live in strings
 * and ranges, so they go with them.
 */

export interface QueryNames {
  metrics: string[];
  /** Labels matched on, per metric. */
  matchers: { metric: string; labels: string[] }[];
  /** Labels of by/without/on/ignoring/group_left/group_right clauses. */
  grouping: string[];
}

const IDENTIFIER = /[a-zA-Z_:][a-zA-Z0-9_:]*/g;
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
  'Inf',
  'NaN',
]);

function names(list: string): string[] {
  return list
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

export function queryNames(expression: string): QueryNames {
  let rest = expression.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""').replace(/\[[^\]]*\]/g, '');
  const matchers: QueryNames['matchers'] = [];
  rest = rest.replace(
    /([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}/g,
    (_all, metric: string | undefined, inside: string) => {
      const labels = [...inside.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((match) => match[1] ?? '');
      if (metric !== undefined && !KEYWORDS.has(metric)) matchers.push({ metric, labels });
      return ' ';
    },
  );
  const grouping: string[] = [];
  rest = rest.replace(
    /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
    (_all, _clause, list: string) => {
      grouping.push(...names(list));
      return ' ';
    },
  );
  const bare = [...rest.matchAll(IDENTIFIER)].filter((match) => {
    const after = rest.slice((match.index ?? 0) + match[0].length);
    const before = rest[(match.index ?? 0) - 1] ?? ' ';
    // A function call, a keyword, or the unit of a number (5m, 0.95e3) is no metric.
    return !/^\s*\(/.test(after) && !KEYWORDS.has(match[0]) && !/[0-9.]/.test(before);
  });
  return {
    metrics: [...new Set([...matchers.map((matcher) => matcher.metric), ...bare.map((match) => match[0])])],
    matchers,
    grouping: [...new Set(grouping)],
  };
}
