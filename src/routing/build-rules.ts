import { type DrRuleRow, drRulesTable } from '../model/drouting-tables.js';
import { parseGwList } from './gateway-list.js';
import type { LoadProblems } from './load-problems.js';
import type { Carrier, Gateway, Rule, RuleDestination, WeightedGateway } from './routing-table.js';
import { readSortAlgorithm } from './sort-algorithm.js';
import type { Timerec, TimerecParse } from './timerec/index.js';

/** What `#X` in a rule's gwlist names: a carrier (1.8+), a dr_gw_lists row (1.x), or whichever exists. */
export type HashRefers = 'carrier' | 'gwlist' | 'auto';

export interface RuleBuildContext {
  gateways: ReadonlyMap<string, Gateway>;
  carriers: ReadonlyMap<string, Carrier>;
  gatewayLists: ReadonlyMap<string, readonly WeightedGateway[]>;
  hashRefers: HashRefers;
  prefixAlphabet: ReadonlySet<string>;
  parseTimerec(text: string): TimerecParse;
  /** Rules share gwlist texts by the thousand: each is resolved once, and its destinations shared. */
  destinationCache: Map<string, Resolved>;
  /** The same for groupid texts: one group array per distinct text. */
  groupCache: Map<string, readonly number[] | undefined>;
}

export type Resolved = { ok: true; destinations: RuleDestination[] } | { ok: false; error: string };

function resolveReference(id: string, weight: number, context: RuleBuildContext): Resolved {
  const carrier = context.carriers.get(id);
  const list = context.gatewayLists.get(id);
  const asCarrier = (): Resolved =>
    carrier ? { ok: true, destinations: [{ kind: 'carrier', carrier, weight }] } : { ok: false, error: `#${id}: carrier ${id} is not in dr_carriers (or its row is wrong)` };
  const asList = (): Resolved =>
    list
      ? { ok: true, destinations: list.map((member) => ({ kind: 'gateway', gateway: member.gateway, weight: member.weight, via: `#${id}` })) }
      : { ok: false, error: `#${id}: dr_gw_lists has no row ${id} (or its row is wrong)` };
  switch (context.hashRefers) {
    case 'carrier':
      return asCarrier();
    case 'gwlist':
      return asList();
    case 'auto':
      if (carrier && list) {
        return { ok: false, error: `#${id} names both carrier ${id} and dr_gw_lists row ${id}: set routing.hashRefers to carrier or gwlist` };
      }
      if (carrier) return asCarrier();
      if (list) return asList();
      return { ok: false, error: `#${id} is neither a carrier in dr_carriers nor a row of dr_gw_lists` };
  }
}

function resolveDestinations(text: string, context: RuleBuildContext): Resolved {
  const parsed = parseGwList(text);
  if (!parsed.ok) return parsed;
  const destinations: RuleDestination[] = [];
  for (const item of parsed.items) {
    if (item.isReference) {
      const resolved = resolveReference(item.id, item.weight, context);
      if (!resolved.ok) return resolved;
      destinations.push(...resolved.destinations);
      continue;
    }
    const gateway = context.gateways.get(item.id);
    if (!gateway) return { ok: false, error: `gateway ${item.id} is not in dr_gateways (or its row is wrong)` };
    destinations.push({ kind: 'gateway', gateway, weight: item.weight, via: undefined });
  }
  return { ok: true, destinations };
}

/** dr_rules.groupid is a list: `0`, `1,2`, `3|4 5` (OpenSIPS dr_load.c). */
export function parseGroupList(text: string): readonly number[] | undefined {
  const parts = text.split(/[,|\s]+/).filter((part) => part !== '');
  if (parts.length === 0 || !parts.every((part) => /^\d+$/.test(part))) return undefined;
  return [...new Set(parts.map(Number))];
}

function badPrefixCharacter(prefix: string, alphabet: ReadonlySet<string>): string | undefined {
  for (let index = 0; index < prefix.length; index++) {
    const char = prefix[index] ?? '';
    if (!alphabet.has(char)) return `character ${JSON.stringify(char)} at position ${index + 1} is not allowed (digits, + * # and routing.extraPrefixChars)`;
  }
  return undefined;
}

function cachedDestinations(text: string, context: RuleBuildContext): Resolved {
  let resolved = context.destinationCache.get(text);
  if (!resolved) {
    resolved = resolveDestinations(text, context);
    context.destinationCache.set(text, resolved);
  }
  return resolved;
}

export function buildRule(row: DrRuleRow, context: RuleBuildContext, problems: LoadProblems): Rule | undefined {
  const before = problems.errors.length;
  let groups = context.groupCache.get(row.groupid);
  if (groups === undefined && !context.groupCache.has(row.groupid)) {
    groups = parseGroupList(row.groupid);
    context.groupCache.set(row.groupid, groups);
  }
  if (!groups) problems.error(drRulesTable, row, 'groupid', 'a list of group numbers separated by , | or blanks');
  const prefix = row.prefix.trim();
  const badChar = badPrefixCharacter(prefix, context.prefixAlphabet);
  if (badChar) problems.error(drRulesTable, row, 'prefix', badChar);
  let timerec: Timerec | null = null;
  if (row.timerec !== null && row.timerec.trim() !== '') {
    const parsed = context.parseTimerec(row.timerec.trim());
    if (parsed.ok) timerec = parsed.timerec;
    else problems.error(drRulesTable, row, 'timerec', parsed.error);
  }
  const resolved = cachedDestinations(row.gwlist, context);
  if (!resolved.ok) problems.error(drRulesTable, row, 'gwlist', resolved.error);
  const sortAlg = readSortAlgorithm(drRulesTable, row, problems);
  if (row.routeid !== null && row.routeid.trim() !== '') {
    problems.warn(drRulesTable, row, 'routeid', 'names an OpenSIPS script route; sip-drouter runs no scripts, so it is shown but not run');
  }
  if (problems.errors.length > before || !groups || !resolved.ok || !sortAlg) return undefined;
  return {
    ruleid: row.ruleid,
    groups,
    prefix,
    timerec,
    priority: row.priority,
    routeid: row.routeid,
    destinations: resolved.destinations,
    sortAlg,
    attrs: row.attrs,
    description: row.description,
  };
}
