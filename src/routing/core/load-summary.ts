import { formatRowProblem } from '../../errors.js';
import { plural } from '../../core/plural.js';
import type { ReloadReport } from '../routing-service.js';

/** One line saying what a (re)load took in: the start-up line and the reload log. */
export function describeLoad(report: ReloadReport, peers?: number): string {
  const { gateways, carriers, rules, callers } = report.counts;
  const parts = [
    plural(gateways, 'gateway'),
    plural(carriers, 'carrier'),
    plural(rules, 'rule'),
    `${plural(callers, 'caller')} in dr_groups`,
  ];
  if (peers !== undefined) parts.push(plural(peers, 'peer'));
  const skipped = report.skipped.length > 0 ? `; ${plural(report.skipped.length, 'row')} skipped` : '';
  const warnings = report.warnings.length > 0 ? `; ${plural(report.warnings.length, 'warning')}` : '';
  return parts.join(', ') + skipped + warnings;
}

/** `0 errors, 1 row skipped, 2 warnings`: the tally of `drouter check` and `drouter reload`. */
export function problemTally(report: {
  errors: readonly unknown[];
  skipped: readonly unknown[];
  warnings: readonly unknown[];
}): string {
  return `${plural(report.errors.length, 'error')}, ${plural(report.skipped.length, 'row')} skipped, ${plural(report.warnings.length, 'warning')}`;
}

/** The log's warning lines of a (re)load: each row skipped, then each warning. */
export function warningLines(report: ReloadReport): string[] {
  return [...report.skipped.map(formatRowProblem), ...report.warnings.map(formatRowProblem)];
}
