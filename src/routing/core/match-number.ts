import { PrefixWalk } from './prefix-match.js';
import type { Rule, RoutingTable } from './routing-table.js';

/** The rule a number matches and how much of the number its prefix took (0: a default rule). */
export interface NumberMatch {
  rule: Rule;
  matchedLength: number;
}

const walk = new PrefixWalk();

/**
 * OpenSIPS find_rule_by_prefix_unsafe (dr_api_internal.c), which the MI
 * command dr_number_routing answers from: the first rule valid at `at` of
 * the group at the longest prefix that has one, else the group's default
 * rules. Unlike do_routing (route-call.ts) it looks at no gateway, so a
 * rule whose gateways are all down still matches.
 */
export function matchNumber(table: RoutingTable, number: string, group: number, at: Date): NumberMatch | undefined {
  walk.start(table, number);
  for (let length = walk.deepest; length >= 0; length--) {
    for (const rule of walk.rulesAt(table, group, length) ?? []) {
      if (!rule.timerec || rule.timerec.matches(at)) return { rule, matchedLength: length };
    }
  }
  return undefined;
}
