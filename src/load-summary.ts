import { formatRowProblem } from './errors.js';
import type { RoutingRows } from './store/store.js';

/** What the store held at start-up, as /health and the start-up line report it. */
export interface LoadSummary {
  gateways: number;
  rules: number;
  carriers: number;
  groups: number;
  gwLists: number;
  peers: number;
  /** Rows left out because a value does not fit its column, one line each. */
  rowProblems: string[];
}

export function summarizeLoad(rows: RoutingRows, peers: number): LoadSummary {
  return {
    gateways: rows.gateways.length,
    rules: rows.rules.length,
    carriers: rows.carriers.length,
    groups: rows.groups.length,
    gwLists: rows.gwLists.length,
    peers,
    rowProblems: rows.problems.map(formatRowProblem),
  };
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

export function describeLoad(summary: LoadSummary): string {
  const parts = [
    plural(summary.gateways, 'gateway'),
    plural(summary.rules, 'rule'),
    plural(summary.carriers, 'carrier'),
    plural(summary.groups, 'group'),
    plural(summary.gwLists, 'gateway list'),
    plural(summary.peers, 'peer'),
  ];
  const problems = summary.rowProblems.length > 0 ? `; ${plural(summary.rowProblems.length, 'bad row value')} (see the warnings above)` : '';
  return parts.join(', ') + problems;
}
