import type { RowProblem } from '../../errors.js';
import type { DrRuleRow } from '../../core/model/drouting-tables.js';
import type { RoutingRows } from '../../core/model/routing-rows.js';
import { buildCarriers, buildGatewayLists } from './build-carriers.js';
import { buildGateways } from './build-gateways.js';
import { buildRule, type HashRefers, type RuleBuildContext } from './build-rules.js';
import { buildCallerGroups } from './caller-groups.js';
import { gwListGrammar, type RoutingDialect } from './gateway-list.js';
import type { LocalSockets } from './gateway-socket.js';
import { layoutDialectWarnings } from './layout-dialect.js';
import { LoadProblems } from './load-problems.js';
import { UNPARTITIONED } from './partitions.js';
import type { RepeatGateways, RoutingTable } from './routing-table.js';
import { RuleIndexBuilder } from './rule-index.js';
import { parseTimerec, type TimerecOptions, type TimerecParse } from './timerec/index.js';
import type { ZeroWeightOrder } from './weighted-order.js';

export interface RoutingBuildOptions {
  hashRefers: HashRefers;
  useDomain: boolean;
  /** Prefix characters allowed beyond the dialect's (OpenSIPS: digits; Kamailio: digits and * # +). */
  extraPrefixChars: string;
  timerec: TimerecOptions;
  /** Separators and id characters of the gwlists, and the prefix alphabet. */
  dialect: RoutingDialect;
  /** A skipped row refuses the whole build (today's all-or-nothing), where OpenSIPS loads the rest. */
  strict: boolean;
  repeatGateways: RepeatGateways;
  zeroWeightOrder: ZeroWeightOrder;
  /** Our SIP sockets: a dr_gateways.socket naming none of them is ignored, with a warning. */
  localSockets: LocalSockets;
}

/**
 * A build either yields a table, or the errors that keep it from being
 * used (with `strict`, the rows it would skip are among them); `skipped`
 * names the other rows left out.
 */
export type RoutingBuild =
  | { ok: true; table: RoutingTable; skipped: RowProblem[]; warnings: RowProblem[] }
  | { ok: false; errors: RowProblem[]; skipped: RowProblem[]; warnings: RowProblem[] };

/**
 * The characters a prefix may hold: OpenSIPS's digits (prefix_tree.c
 * init_prefix_tree, 1.x to 3.x) or Kamailio's digits, `*`, `#` and `+`
 * (its fixed 13-child tree: Kamailio 5.6.3 loads `+44` and `*9#`, skips
 * `4a` and ` 55`), and routing.extraPrefixChars (OpenSIPS
 * `extra_prefix_chars`). A rule with any other character is skipped at
 * load; a number reaching one in the walk has only the default rules.
 */
export function prefixAlphabet(dialect: RoutingDialect, extraPrefixChars: string): Set<string> {
  return new Set([...'0123456789', ...(dialect === 'kamailio' ? '*#+' : ''), ...extraPrefixChars]);
}

/**
 * Builds the routing snapshot: gateways, then carriers and 1.x gateway
 * lists, then rules (the order OpenSIPS loads them in). Rules may come in
 * pages, so a million of them never sit in memory as rows all at once.
 * A row OpenSIPS 3.x leaves out is left out here too (skipped, and named);
 * a row that does not fit its columns makes the whole build unusable, as
 * OpenSIPS's loader refuses the whole load on it; the caller keeps its old one.
 */
export class RoutingTableBuilder {
  private readonly problems = new LoadProblems();
  private readonly context: RuleBuildContext;
  private readonly rules = new RuleIndexBuilder();
  private readonly callerGroups: Map<string, number>;

  /** `partition`: the dr_partitions name whose rows these are (its gateway and carrier ids are qualified by it). */
  constructor(
    base: Omit<RoutingRows, 'rules'>,
    private readonly options: RoutingBuildOptions,
    partition: string = UNPARTITIONED,
  ) {
    const problems = this.problems;
    problems.errors.push(...base.problems);
    problems.warnings.push(
      ...layoutDialectWarnings(base.layout, { dialect: options.dialect, timerecDialect: options.timerec.dialect }),
    );
    const grammar = gwListGrammar(options.dialect);
    const gateways = buildGateways(base.gateways, grammar, problems, options.localSockets, partition);
    const carriers = buildCarriers(base.carriers, gateways, grammar, problems, partition);
    const gatewayLists = buildGatewayLists(base.gwLists, gateways, grammar, problems);
    const timerecCache = new Map<string, TimerecParse>();
    this.context = {
      gateways,
      carriers,
      gatewayLists,
      hashRefers: options.hashRefers,
      grammar,
      prefixAlphabet: prefixAlphabet(options.dialect, options.extraPrefixChars),
      destinationCache: new Map(),
      groupCache: new Map(),
      parseTimerec(text) {
        let parsed = timerecCache.get(text);
        if (!parsed) {
          parsed = parseTimerec(text, options.timerec);
          timerecCache.set(text, parsed);
        }
        return parsed;
      },
    };
    this.callerGroups = buildCallerGroups(base.groups, options.useDomain, problems);
  }

  /** Adds a page of dr_rules rows and the problems the store found in it. */
  addRules(rows: readonly DrRuleRow[], rowProblems: readonly RowProblem[] = []): this {
    this.problems.errors.push(...rowProblems);
    for (const row of rows) {
      const rule = buildRule(row, this.context, this.problems);
      if (rule) this.rules.add(rule);
    }
    return this;
  }

  finish(): RoutingBuild {
    const { problems, context } = this;
    const rules = this.rules.finish(context.prefixAlphabet, problems);
    const { errors, skipped, warnings } = problems;
    if (errors.length > 0 || (this.options.strict && skipped.length > 0)) {
      // With strict, what would have been skipped is an error like the others.
      return this.options.strict
        ? { ok: false, errors: [...errors, ...skipped], skipped: [], warnings }
        : { ok: false, errors, skipped, warnings };
    }
    return {
      ok: true,
      skipped,
      warnings,
      table: {
        // Rows name ids within their partition; the table, as everything after it, by the qualified ones.
        gateways: byOwnId(context.gateways, (gateway) => gateway.gwid),
        carriers: byOwnId(context.carriers, (carrier) => carrier.carrierid),
        rules,
        groupIds: rules.groupIds,
        callerGroups: this.callerGroups,
        useDomain: this.options.useDomain,
        repeatGateways: this.options.repeatGateways,
        zeroWeightOrder: this.options.zeroWeightOrder,
      },
    };
  }
}

function byOwnId<T>(map: ReadonlyMap<string, T>, idOf: (item: T) => string): ReadonlyMap<string, T> {
  for (const [key, item] of map)
    if (idOf(item) !== key) return new Map([...map.values()].map((each) => [idOf(each), each]));
  return map;
}

/** Builds a snapshot from rows already in memory. */
export function buildRoutingTable(rows: RoutingRows, options: RoutingBuildOptions): RoutingBuild {
  return new RoutingTableBuilder(rows, options).addRules(rows.rules).finish();
}
