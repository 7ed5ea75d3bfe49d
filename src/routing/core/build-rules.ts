import { type DrRuleRow, drRulesTable } from '../../core/model/drouting-tables.js';
import { type GwListGrammar, parseGwList } from './gateway-list.js';
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
  grammar: GwListGrammar;
  prefixAlphabet: ReadonlySet<string>;
  parseTimerec(text: string): TimerecParse;
  /** Rules share gwlist texts by the thousand: each is resolved once, and its destinations shared. */
  destinationCache: Map<string, Resolved>;
  /** The same for groupid texts: one group array per distinct text. */
  groupCache: Map<string, readonly number[] | undefined>;
}

/** A gwlist read: its destinations and warnings (what was left out of it), or why the rule is skipped. */
export type Resolved =
  { ok: true; destinations: RuleDestination[]; listWarnings: string[] } | { ok: false; error: string };

type Reference = { destinations: RuleDestination[] } | { missing: string };

function resolveReference(id: string, weight: number, context: RuleBuildContext): Reference {
  const carrier = context.carriers.get(id);
  const list = context.gatewayLists.get(id);
  const asCarrier = (): Reference =>
    carrier
      ? { destinations: [{ kind: 'carrier', carrier, weight }] }
      : { missing: `#${id}: carrier ${id} is not in dr_carriers (or its row was skipped): left out of the list` };
  const asList = (): Reference =>
    list
      ? {
          destinations: list.map((member) => ({
            kind: 'gateway',
            gateway: member.gateway,
            weight: member.weight,
            via: `#${id}`,
          })),
        }
      : { missing: `#${id}: dr_gw_lists has no row ${id} (or it was skipped): left out of the list` };
  switch (context.hashRefers) {
    case 'carrier':
      return asCarrier();
    case 'gwlist':
      return asList();
    case 'auto':
      if (carrier) return asCarrier();
      if (list) return asList();
      return { missing: `#${id} is neither a carrier in dr_carriers nor a row of dr_gw_lists: left out of the list` };
  }
}

/**
 * A rule's gwlist as OpenSIPS 3.x build_rt_info reads it: a list that does
 * not parse skips the rule; an id that names nothing is left out with a
 * warning (OpenSIPS: "destination ID <…> was not found").
 */
function resolveDestinations(text: string, context: RuleBuildContext): Resolved {
  const parsed = parseGwList(text, context.grammar);
  if (!parsed.ok) return parsed;
  const destinations: RuleDestination[] = [];
  const listWarnings: string[] = [];
  for (const item of parsed.items) {
    if (item.isReference) {
      const reference = resolveReference(item.id, item.weight, context);
      if ('missing' in reference) listWarnings.push(reference.missing);
      else destinations.push(...reference.destinations);
      continue;
    }
    const gateway = context.gateways.get(item.id);
    if (gateway) destinations.push({ kind: 'gateway', gateway, weight: item.weight, via: undefined });
    else listWarnings.push(`gateway ${item.id} is not in dr_gateways (or its row was skipped): left out of the list`);
  }
  if (context.hashRefers === 'auto') {
    for (const item of parsed.items) {
      if (item.isReference && context.carriers.has(item.id) && context.gatewayLists.has(item.id)) {
        listWarnings.push(
          `#${item.id} names both carrier ${item.id} and dr_gw_lists row ${item.id}: read as the carrier, as OpenSIPS 3.x reads it (routing.hashRefers picks one)`,
        );
      }
    }
  }
  return { ok: true, destinations, listWarnings };
}

/**
 * dr_rules.groupid is a list: `0`, `1,2`, `3|4 5`, read as OpenSIPS 3.x
 * add_rule reads it (strtol per item, then a blank, `,` or `|`): `1,,2` or
 * an empty list is no list; a trailing separator is allowed; a negative
 * number wraps to an unsigned group as in C.
 */
export function parseGroupList(text: string): readonly number[] | undefined {
  const groups = new Set<number>();
  let at = 0;
  while (at < text.length) {
    const match = /^\s*([+-]?\d+)/.exec(text.slice(at));
    if (!match?.[1]) return undefined;
    groups.add(Number(BigInt.asUintN(32, BigInt(match[1]))));
    at += match[0].length;
    const next = text[at];
    if (next !== undefined && !/[\s,|]/.test(next)) return undefined;
    while (at < text.length && /\s/.test(text[at] ?? '')) at++;
    if (text[at] === ',' || text[at] === '|') at++;
  }
  return groups.size > 0 ? [...groups] : undefined;
}

/** A blank counts like any other character: OpenSIPS's add_prefix takes the column as it comes, so ' 44' is skipped. */
function badPrefixCharacter(prefix: string, alphabet: ReadonlySet<string>): string | undefined {
  for (let index = 0; index < prefix.length; index++) {
    const char = prefix[index] ?? '';
    if (!alphabet.has(char)) {
      const others = [...alphabet].filter((each) => !/[0-9]/.test(each)).join(' ');
      return `character ${JSON.stringify(char)} at position ${index + 1} is not a prefix character (digits${others ? `, ${others}` : ''}; routing.extraPrefixChars adds others)`;
    }
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

/**
 * One dr_rules row, with OpenSIPS 3.x's verdict (dr_load.c): a timerec that
 * does not parse, a gwlist that does not parse, a bad groupid or a prefix
 * character outside the alphabet skips the rule; unknown ids in the gwlist
 * are left out; an empty gwlist loads a rule that offers no gateway.
 */
export function buildRule(row: DrRuleRow, context: RuleBuildContext, problems: LoadProblems): Rule | undefined {
  const skip = (column: string, why: string): undefined => {
    problems.skip(drRulesTable, row, column, why);
    return undefined;
  };
  let timerec: Timerec | null = null;
  if (row.timerec !== null && row.timerec.trim() !== '') {
    const parsed = context.parseTimerec(row.timerec.trim());
    if (!parsed.ok) return skip('timerec', parsed.error);
    timerec = parsed.timerec;
  }
  const gwlist = row.gwlist ?? '';
  const resolved = cachedDestinations(gwlist, context);
  if (!resolved.ok) return skip('gwlist', resolved.error);
  let groups = context.groupCache.get(row.groupid);
  if (groups === undefined && !context.groupCache.has(row.groupid)) {
    groups = parseGroupList(row.groupid);
    context.groupCache.set(row.groupid, groups);
  }
  if (!groups) return skip('groupid', 'a list of group numbers separated by , | or blanks');
  const prefix = row.prefix;
  const badChar = badPrefixCharacter(prefix, context.prefixAlphabet);
  if (badChar) return skip('prefix', badChar);
  for (const warning of resolved.listWarnings) problems.warn(drRulesTable, row, 'gwlist', warning);
  const sortAlg = readSortAlgorithm(drRulesTable, row, problems);
  if (namesScriptRoute(row.routeid)) {
    problems.warn(
      drRulesTable,
      row,
      'routeid',
      'names an OpenSIPS script route; sip-drouter runs no scripts, so it is shown but not run',
    );
  }
  if (resolved.destinations.length === 0) {
    problems.warn(
      drRulesTable,
      row,
      'gwlist',
      'names no gateway that loaded: a number this rule takes gets no gateway (503), as in OpenSIPS 3.x',
    );
  }
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

/**
 * Whether dr_rules.routeid names a script route: OpenSIPS 1.6+ keeps a route
 * name there (NULL or '' for none); Kamailio and OpenSIPS 1.5 keep a route
 * number in a NOT NULL column, where 0 is none.
 */
function namesScriptRoute(routeid: string | null): boolean {
  const value = routeid?.trim() ?? '';
  return value !== '' && value !== '0';
}
