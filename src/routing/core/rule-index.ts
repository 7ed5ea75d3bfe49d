import { drRulesTable } from '../../core/model/drouting-tables.js';
import type { LoadProblems } from './load-problems.js';
import { PrefixTrie } from './prefix-trie.js';
import type { Rule, RulesByPrefix } from './routing-table.js';

/**
 * The rules of a snapshot by prefix and group, kept in typed arrays rather
 * than as an object per rule: a million rules as objects (each with its
 * chain link, list and prefix string) held ~250 MB of heap, twice that
 * during a reload; here they are 16 bytes each plus 8 an entry, off the
 * garbage collector's heap. What rules share by the thousand (groups,
 * timerec, destinations, sort order, routeid, attrs, description: the
 * "shape") is stored once; a rule is made into an object only when a
 * lookup reads it, with the prefix the walk already holds.
 */

/** A rule without its own three fields: what many rules share. */
type RuleShape = Omit<Rule, 'ruleid' | 'prefix' | 'priority'>;

export class RuleIndex implements RulesByPrefix {
  constructor(
    /** Groups that have at least one rule. */
    readonly groupIds: ReadonlySet<number>,
    private readonly trie: PrefixTrie,
    /** Per trie node, where its entries start in entryGroup/entryRule; one more for the end of the last. */
    private readonly firstEntry: Int32Array,
    private readonly entryGroup: Uint32Array,
    private readonly entryRule: Int32Array,
    private readonly ruleId: Float64Array,
    private readonly rulePriority: Float64Array,
    private readonly ruleShape: Int32Array,
    private readonly shapes: readonly RuleShape[],
  ) {}

  get count(): number {
    return this.ruleId.length;
  }

  walk(number: string, path: Int32Array): number {
    return this.trie.walk(number, path);
  }

  at(node: number, group: number, number: string, length: number): Rule[] | undefined {
    const end = this.firstEntry[node + 1] ?? 0;
    let rules: Rule[] | undefined;
    let prefix: string | undefined;
    for (let entry = this.firstEntry[node] ?? end; entry < end; entry++) {
      if (this.entryGroup[entry] !== group) continue;
      prefix ??= number.slice(0, length);
      (rules ??= []).push(this.rule(this.entryRule[entry] ?? 0, prefix));
    }
    return rules;
  }

  withPrefix(prefix: string, group: number): Rule[] | undefined {
    const node = this.trie.find(prefix);
    return node < 0 ? undefined : this.at(node, group, prefix, prefix.length);
  }

  private rule(index: number, prefix: string): Rule {
    const shape = this.shapes[this.ruleShape[index] ?? 0] as RuleShape;
    return {
      ruleid: this.ruleId[index] ?? 0,
      groups: shape.groups,
      prefix,
      timerec: shape.timerec,
      priority: this.rulePriority[index] ?? 0,
      routeid: shape.routeid,
      destinations: shape.destinations,
      sortAlg: shape.sortAlg,
      attrs: shape.attrs,
      description: shape.description,
    };
  }
}

/** Rules as they are built, in arrival order; `finish` lays them out. */
export class RuleIndexBuilder {
  private readonly ruleIds: number[] = [];
  private readonly priorities: number[] = [];
  private readonly prefixes: string[] = [];
  private readonly shapeOf: number[] = [];
  private readonly shapes: RuleShape[] = [];
  private readonly shapeByKey = new Map<string, number>();
  /** Shapes are told apart by the identity of their shared parts (the build shares one per distinct text). */
  private readonly partIds = new Map<object, number>();

  add(rule: Rule): void {
    const key = [
      this.partId(rule.groups),
      rule.timerec ? this.partId(rule.timerec) : 0,
      this.partId(rule.destinations),
      rule.sortAlg,
      orNull(rule.routeid),
      orNull(rule.attrs),
      orNull(rule.description),
    ].join('\u0000');
    let shape = this.shapeByKey.get(key);
    if (shape === undefined) {
      shape = this.shapes.length;
      const { groups, timerec, routeid, destinations, sortAlg, attrs, description } = rule;
      this.shapes.push({ groups, timerec, routeid, destinations, sortAlg, attrs, description });
      this.shapeByKey.set(key, shape);
    }
    this.ruleIds.push(rule.ruleid);
    this.priorities.push(rule.priority);
    this.prefixes.push(rule.prefix);
    this.shapeOf.push(shape);
  }

  /**
   * Puts every rule into the trie node of its prefix (the root for a
   * prefix-less one), once per group it names, each node's entries by group
   * then priority (higher first) then ruleid; warns of catch-all rules and
   * of rules shadowed by a duplicate.
   */
  finish(alphabet: ReadonlySet<string>, problems: LoadProblems): RuleIndex {
    const { ruleIds, priorities, prefixes, shapeOf, shapes } = this;
    const count = ruleIds.length;
    const trie = new PrefixTrie(alphabet);
    // In prefix order, each insert follows the previous one down the same
    // path: five times faster than the database's order for a million rules.
    const order = Array.from({ length: count }, (_, index) => index).sort((a, b) =>
      byPrefixThenId(prefixes[a] ?? '', ruleIds[a] ?? 0, prefixes[b] ?? '', ruleIds[b] ?? 0),
    );
    const builtNode = new Int32Array(count);
    for (const index of order) builtNode[index] = trie.insert(prefixes[index] ?? '');
    const sealedOf = trie.seal();
    const nodeOf = (index: number) => sealedOf[builtNode[index] ?? 0] ?? 0;
    const groupsOf = (index: number) => shapes[shapeOf[index] ?? 0]?.groups ?? [];

    const firstEntry = new Int32Array(trie.nodeCount + 1);
    for (let index = 0; index < count; index++) {
      const node = nodeOf(index);
      firstEntry[node + 1] = (firstEntry[node + 1] ?? 0) + groupsOf(index).length;
    }
    for (let node = 0; node < trie.nodeCount; node++)
      firstEntry[node + 1] = (firstEntry[node + 1] ?? 0) + (firstEntry[node] ?? 0);
    const entries = firstEntry[trie.nodeCount] ?? 0;
    const entryGroup = new Uint32Array(entries);
    const entryRule = new Int32Array(entries);
    const next = firstEntry.slice(0, trie.nodeCount);
    const groupIds = new Set<number>();
    for (const index of order) {
      const node = nodeOf(index);
      for (const group of groupsOf(index)) {
        groupIds.add(group);
        const entry = next[node] ?? 0;
        next[node] = entry + 1;
        entryGroup[entry] = group;
        entryRule[entry] = index;
      }
    }

    const byGroupPriorityId = (a: number, b: number) =>
      (entryGroup[a] ?? 0) - (entryGroup[b] ?? 0) ||
      (priorities[entryRule[b] ?? 0] ?? 0) - (priorities[entryRule[a] ?? 0] ?? 0) ||
      (ruleIds[entryRule[a] ?? 0] ?? 0) - (ruleIds[entryRule[b] ?? 0] ?? 0);
    const arrange = (node: number) => {
      const start = firstEntry[node] ?? 0;
      const end = firstEntry[node + 1] ?? 0;
      if (end - start < 2) return;
      const sorted = Array.from({ length: end - start }, (_, i) => start + i).sort(byGroupPriorityId);
      const groups = sorted.map((entry) => entryGroup[entry] ?? 0);
      const rules = sorted.map((entry) => entryRule[entry] ?? 0);
      entryGroup.set(groups, start);
      entryRule.set(rules, start);
      for (let entry = start + 1; entry < end; entry++) {
        const earlier = entryRule[entry - 1] ?? 0;
        const rule = entryRule[entry] ?? 0;
        if (entryGroup[entry - 1] !== entryGroup[entry] || priorities[earlier] !== priorities[rule]) continue;
        if (
          (shapes[shapeOf[earlier] ?? 0]?.timerec?.source ?? '') !== (shapes[shapeOf[rule] ?? 0]?.timerec?.source ?? '')
        )
          continue;
        problems.warn(
          drRulesTable,
          { ruleid: ruleIds[rule], prefix: prefixes[rule] },
          'prefix',
          `duplicates rule ${ruleIds[earlier]} in group ${entryGroup[entry]} (same prefix, priority and timerec): it is used only when rule ${ruleIds[earlier]} yields no gateway and routing.ruleFallback is on`,
        );
      }
    };
    for (const index of order) {
      if (prefixes[index] !== '') break;
      problems.warn(
        drRulesTable,
        { ruleid: ruleIds[index], prefix: '' },
        'prefix',
        `is empty: this rule catches every number of group ${groupsOf(index).join(', ')} that no longer prefix matches (OpenSIPS #1961 cost a user money)`,
      );
    }
    // Duplicates are named in prefix order, the prefix-less rules last.
    const arranged = new Uint8Array(trie.nodeCount);
    for (const index of order) {
      const node = nodeOf(index);
      if (node === 0 || arranged[node] === 1) continue;
      arranged[node] = 1;
      arrange(node);
    }
    arrange(0);
    return new RuleIndex(
      groupIds,
      trie,
      firstEntry,
      entryGroup,
      entryRule,
      Float64Array.from(ruleIds),
      Float64Array.from(priorities),
      Int32Array.from(shapeOf),
      shapes,
    );
  }

  private partId(part: object): number {
    let id = this.partIds.get(part);
    if (id === undefined) {
      id = this.partIds.size + 1;
      this.partIds.set(part, id);
    }
    return id;
  }
}

function orNull(text: string | null): string {
  return text ?? '\u0001';
}

function byPrefixThenId(prefixA: string, idA: number, prefixB: string, idB: number): number {
  return prefixA < prefixB ? -1 : prefixA > prefixB ? 1 : idA - idB;
}
