import type { Rule, RoutingTable } from './routing-table.js';

/** A dr_rules prefix is CHAR(64): no walk goes deeper. */
const MAX_PREFIX_LENGTH = 64;

/**
 * The trie nodes on a number's path, read deepest first, then the group's
 * defaults: the longest-prefix order of OpenSIPS get_prefix. One instance
 * is reused call after call (a walk is synchronous), so a walk allocates
 * nothing; the rules it finds are made into objects as they are read.
 */
export class PrefixWalk {
  private readonly path = new Int32Array(MAX_PREFIX_LENGTH);
  private depth = 0;
  private number = '';
  /** 1-based position of a character outside the alphabet that abandoned the prefixes, else 0. */
  abandonedAt = 0;

  /**
   * Starts a walk. As in OpenSIPS (prefix_tree.c get_prefix), a character
   * outside the alphabet that the walk reads abandons the prefix match
   * altogether: only the default rules remain (`+44…` with `+` not allowed).
   */
  start(table: RoutingTable, number: string): void {
    const depth = table.rules.walk(number, this.path);
    this.number = number;
    this.depth = Math.max(depth, 0);
    this.abandonedAt = depth < 0 ? -depth : 0;
  }

  /** Prefix lengths to visit, deepest first; 0 stands for the default rules. */
  get deepest(): number {
    return this.depth;
  }

  /** The group's rules at the prefix of this length (0: the defaults), in priority order. */
  rulesAt(table: RoutingTable, group: number, length: number): readonly Rule[] | undefined {
    return table.rules.at(length === 0 ? 0 : (this.path[length - 1] ?? 0), group, this.number, length);
  }
}
