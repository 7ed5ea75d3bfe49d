import type { RowProblem } from '../errors.js';
import { drRulesTable } from '../model/drouting-tables.js';
import type { RoutingRows } from '../model/routing-rows.js';
import { buildCarriers, buildGatewayLists } from './build-carriers.js';
import { buildGateways } from './build-gateways.js';
import { buildRule, type HashRefers, type RuleBuildContext } from './build-rules.js';
import { buildCallerGroups } from './caller-groups.js';
import { LoadProblems } from './load-problems.js';
import { PrefixTrie } from './prefix-trie.js';
import type { NodeRules, Rule, RoutingTable } from './routing-table.js';
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
  const index = indexRules(rules, alphabet, problems);
  if (problems.errors.length > 0) return { ok: false, errors: problems.errors, warnings: problems.warnings };
  return {
    ok: true,
    warnings: problems.warnings,
    table: {
      gateways,
      carriers,
      ...index,
      callerGroups,
      useDomain: options.useDomain,
      ruleCount: rules.length,
    },
  };
}

/** Priority first (higher wins), then ruleid: deterministic where OpenSIPS keeps DB order. */
function byPriorityThenId(a: Rule, b: Rule): number {
  return b.priority - a.priority || a.ruleid - b.ruleid;
}

interface RuleIndex {
  trie: PrefixTrie<NodeRules>;
  defaults: Map<number, Rule[]>;
  groupIds: Set<number>;
}

/** Puts every rule into the trie node of its prefix, once per group it names. */
function indexRules(rules: readonly Rule[], alphabet: ReadonlySet<string>, problems: LoadProblems): RuleIndex {
  const trie = new PrefixTrie<NodeRules>(alphabet);
  const byNode = new Map<number, Map<number, Rule[]>>();
  const defaults = new Map<number, Rule[]>();
  const groupIds = new Set<number>();
  for (const rule of rules) {
    if (rule.prefix === '') {
      problems.warn(drRulesTable, ruleRow(rule), 'prefix', `is empty: this rule catches every number of group ${rule.groups.join(', ')} that no longer prefix matches (OpenSIPS #1961 cost a user money)`);
    }
    const perGroup = rule.prefix === '' ? defaults : nodeLists(byNode, trie.insert(rule.prefix));
    for (const group of rule.groups) {
      groupIds.add(group);
      const list = perGroup.get(group);
      if (list) list.push(rule);
      else perGroup.set(group, [rule]);
    }
  }
  const chains = new Map<number, NodeRules>();
  for (const [node, perGroup] of byNode) {
    let chain: NodeRules | undefined;
    for (const [group, list] of perGroup) {
      sortAndCheck(group, list, problems);
      chain = { group, rules: list, next: chain };
    }
    if (chain) chains.set(node, chain);
  }
  for (const [group, list] of defaults) sortAndCheck(group, list, problems);
  trie.seal(chains);
  return { trie, defaults, groupIds };
}

function nodeLists(byNode: Map<number, Map<number, Rule[]>>, node: number): Map<number, Rule[]> {
  let perGroup = byNode.get(node);
  if (!perGroup) {
    perGroup = new Map();
    byNode.set(node, perGroup);
  }
  return perGroup;
}

function sortAndCheck(group: number, list: Rule[], problems: LoadProblems): void {
  if (list.length < 2) return;
  list.sort(byPriorityThenId);
  warnDuplicates(group, list, problems);
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
