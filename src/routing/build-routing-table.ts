import type { RowProblem } from '../errors.js';
import { drRulesTable } from '../model/drouting-tables.js';
import type { RoutingRows } from '../model/routing-rows.js';
import { buildCarriers, buildGatewayLists } from './build-carriers.js';
import { buildGateways } from './build-gateways.js';
import { buildRule, type HashRefers, type RuleBuildContext } from './build-rules.js';
import { buildCallerGroups } from './caller-groups.js';
import { LoadProblems } from './load-problems.js';
import type { GroupRules, Rule, RoutingTable } from './routing-table.js';
import { parseTimerec, type TimerecOptions, type TimerecParse } from './timerec/index.js';

export interface RoutingBuildOptions {
  hashRefers: HashRefers;
  useDomain: boolean;
  /** Prefix characters allowed beyond digits and + * #. */
  extraPrefixChars: string;
  timerec: TimerecOptions;
}

/** A build either yields a table, or the errors that keep it from being used. */
export type RoutingBuild =
  | { ok: true; table: RoutingTable; warnings: RowProblem[] }
  | { ok: false; errors: RowProblem[]; warnings: RowProblem[] };

export function prefixAlphabet(extraPrefixChars: string): Set<string> {
  return new Set([...'0123456789+*#', ...extraPrefixChars]);
}

/**
 * Builds the routing snapshot from the store rows: gateways, then carriers
 * and 1.x gateway lists, then rules (the order OpenSIPS loads them in).
 * Any error makes the whole build unusable; the caller keeps its old one.
 */
export function buildRoutingTable(rows: RoutingRows, options: RoutingBuildOptions): RoutingBuild {
  const problems = new LoadProblems();
  problems.errors.push(...rows.problems);
  const gateways = buildGateways(rows.gateways, problems);
  const carriers = buildCarriers(rows.carriers, gateways, problems);
  const gatewayLists = buildGatewayLists(rows.gwLists, gateways, problems);
  const alphabet = prefixAlphabet(options.extraPrefixChars);
  const timerecCache = new Map<string, TimerecParse>();
  const context: RuleBuildContext = {
    gateways,
    carriers,
    gatewayLists,
    hashRefers: options.hashRefers,
    prefixAlphabet: alphabet,
    destinationCache: new Map(),
    parseTimerec(text) {
      let parsed = timerecCache.get(text);
      if (!parsed) {
        parsed = parseTimerec(text, options.timerec);
        timerecCache.set(text, parsed);
      }
      return parsed;
    },
  };
  const rules: Rule[] = [];
  for (const row of rows.rules) {
    const rule = buildRule(row, context, problems);
    if (rule) rules.push(rule);
  }
  const callerGroups = buildCallerGroups(rows.groups, options.useDomain, problems);
  const groups = indexRulesByGroup(rules, problems);
  if (problems.errors.length > 0) return { ok: false, errors: problems.errors, warnings: problems.warnings };
  return {
    ok: true,
    warnings: problems.warnings,
    table: {
      gateways,
      carriers,
      groups,
      callerGroups,
      useDomain: options.useDomain,
      prefixAlphabet: alphabet,
      sortedPrefixes: [...new Set(rules.map((rule) => rule.prefix))].sort(),
      ruleCount: rules.length,
    },
  };
}

interface MutableGroupRules {
  byPrefix: Map<string, Rule[]>;
  defaults: Rule[];
  longestPrefix: number;
}

/** Priority first (higher wins), then ruleid: deterministic where OpenSIPS keeps DB order. */
function byPriorityThenId(a: Rule, b: Rule): number {
  return b.priority - a.priority || a.ruleid - b.ruleid;
}

function indexRulesByGroup(rules: readonly Rule[], problems: LoadProblems): Map<number, GroupRules> {
  const groups = new Map<number, MutableGroupRules>();
  for (const rule of rules) {
    if (rule.prefix === '') {
      problems.warn(drRulesTable, ruleRow(rule), 'prefix', `is empty: this rule catches every number of group ${rule.groups.join(', ')} that no longer prefix matches (OpenSIPS #1961 cost a user money)`);
    }
    for (const groupId of rule.groups) {
      let group = groups.get(groupId);
      if (!group) {
        group = { byPrefix: new Map(), defaults: [], longestPrefix: 0 };
        groups.set(groupId, group);
      }
      if (rule.prefix === '') {
        group.defaults.push(rule);
        continue;
      }
      const list = group.byPrefix.get(rule.prefix);
      if (list) list.push(rule);
      else group.byPrefix.set(rule.prefix, [rule]);
      if (rule.prefix.length > group.longestPrefix) group.longestPrefix = rule.prefix.length;
    }
  }
  for (const [groupId, group] of groups) {
    for (const list of [...group.byPrefix.values(), group.defaults]) {
      if (list.length < 2) continue;
      list.sort(byPriorityThenId);
      warnDuplicates(groupId, list, problems);
    }
  }
  return groups;
}

function warnDuplicates(groupId: number, sorted: readonly Rule[], problems: LoadProblems): void {
  for (let i = 1; i < sorted.length; i++) {
    const earlier = sorted[i - 1];
    const rule = sorted[i];
    if (!earlier || !rule) continue;
    if (earlier.priority === rule.priority && (earlier.timerec?.source ?? '') === (rule.timerec?.source ?? '')) {
      problems.warn(drRulesTable, ruleRow(rule), 'prefix', `duplicates rule ${earlier.ruleid} in group ${groupId} (same prefix, priority and timerec): it is used only when rule ${earlier.ruleid} yields no gateway and routing.ruleFallback is on`);
    }
  }
}

function ruleRow(rule: Rule): Record<string, unknown> {
  return { ruleid: rule.ruleid, prefix: rule.prefix };
}
