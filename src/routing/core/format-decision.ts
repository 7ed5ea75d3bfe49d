import { formatRowProblem, type RowProblem } from '../../errors.js';
import type { Destination, RouteDecision } from './route-call.js';

/** The decision as plain JSON (`drouter route --json`, the admin API). */
export function decisionJson(decision: RouteDecision) {
  return {
    outcome: decision.outcome,
    number: decision.number,
    group: decision.group.group,
    groupSource: decision.group.source,
    groupReason: decision.group.detail,
    partition: decision.partition?.name ?? null,
    partitionReason: decision.partition?.detail ?? null,
    prefix: decision.prefix,
    ruleId: decision.ruleId,
    rules: decision.rules,
    destinations: decision.destinations.map(destinationJson),
    notes: decision.notes,
  };
}

/** What `drouter route --json` prints and `GET /route` answers: the decision and the time it was made for. */
export function routeAnswerJson(decision: RouteDecision, at: Date) {
  return { at: at.toISOString(), ...decisionJson(decision) };
}

export type RouteAnswerJson = ReturnType<typeof routeAnswerJson>;

function destinationJson(destination: Destination) {
  return {
    gwid: destination.gateway.gwid,
    ruleId: destination.ruleId,
    carrierid: destination.carrierid ?? null,
    via: destination.via ?? null,
    address: destination.gateway.address.hostPort,
    state: destination.state,
    usable: destination.skipped === undefined,
    skipped: destination.skipped ?? null,
    uri: destination.uri ?? null,
  };
}

const OUTCOME_TEXT: Record<RouteDecision['outcome'], string> = {
  routed: 'routed',
  'no-rule': 'no rule matches (a call gets 404)',
  'no-gateway': 'a rule matches but no gateway is usable (a call gets 503)',
};

/** Rows as aligned columns, two spaces apart (the CLI's tables). */
export function table(rows: readonly string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    `  ${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd(),
  );
}

/**
 * The decision as a readable report (`drouter route`). It reads the JSON
 * form so that an answer from the running server and one computed from the
 * database print alike.
 */
export function decisionText(decision: RouteAnswerJson): string {
  const lines = [
    `number   ${decision.number}`,
    `at       ${decision.at}`,
    ...(decision.partition === null ? [] : [`partition ${decision.partition} (${decision.partitionReason ?? ''})`]),
    `group    ${decision.group ?? 'none'} (${decision.groupReason})`,
    `outcome  ${OUTCOME_TEXT[decision.outcome]}`,
  ];
  if (decision.ruleId !== null)
    lines.push(
      `rule     ${decision.ruleId}, prefix ${decision.prefix === '' ? '(none: default rule)' : `"${decision.prefix}"`}`,
    );
  for (const note of decision.notes) lines.push(`note     ${note}`);
  if (decision.rules.length > 0) {
    lines.push('', 'rules looked at:');
    lines.push(
      ...table([
        ['rule', 'prefix', 'priority', 'timerec', 'verdict'],
        ...decision.rules.map((rule) => [
          String(rule.ruleId),
          rule.prefix === '' ? '(default)' : rule.prefix,
          String(rule.priority),
          rule.timerec ?? '-',
          `${rule.verdict}: ${rule.reason}`,
        ]),
      ]),
    );
  }
  if (decision.destinations.length > 0) {
    lines.push('', 'gateways, in trying order:');
    lines.push(
      ...table([
        ['#', 'gwid', 'from', 'address', 'state', 'Request-URI or why skipped'],
        ...decision.destinations.map((d, i) => [
          String(i + 1),
          d.gwid,
          d.carrierid ? `carrier ${d.carrierid}` : (d.via ?? `rule ${d.ruleId}`),
          d.address,
          d.state,
          d.uri ?? `skipped: ${d.skipped ?? ''}`,
        ]),
      ]),
    );
  }
  return lines.join('\n');
}

/** `drouter check`: every error, skipped row and warning, one per line. */
export function problemsText(
  errors: readonly RowProblem[],
  skipped: readonly RowProblem[],
  warnings: readonly RowProblem[],
): string {
  return [
    ...errors.map((p) => `error    ${formatRowProblem(p)}`),
    ...skipped.map((p) => `skipped  ${formatRowProblem(p)}`),
    ...warnings.map((p) => `warning  ${formatRowProblem(p)}`),
  ].join('\n');
}
