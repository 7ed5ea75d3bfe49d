import type { GroupRules, Rule, RoutingTable } from './routing-table.js';

/** A trie node on the number's path that holds rules of the group. */
export interface PrefixNode {
  /** '' for the group's prefix-less (default) rules. */
  readonly prefix: string;
  readonly rules: readonly Rule[];
}

export interface PrefixWalk {
  /** Deepest first, the default rules last. */
  nodes: PrefixNode[];
  /** Set when the walk met a character outside the prefix alphabet and gave up on prefixes. */
  abandonedAt: { position: number; character: string } | undefined;
}

/**
 * Does a trie walk get to look at the character after `path`? At the start
 * always; further on only if some rule's prefix goes on past `path` (the
 * walk stops at a leaf before reading the next character).
 */
function walkReadsPast(sortedPrefixes: readonly string[], path: string): boolean {
  if (path === '') return true;
  let low = 0;
  let high = sortedPrefixes.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sortedPrefixes[middle] ?? '') < path) low = middle + 1;
    else high = middle;
  }
  for (let i = low; i < sortedPrefixes.length; i++) {
    const prefix = sortedPrefixes[i] ?? '';
    if (!prefix.startsWith(path)) return false;
    if (prefix.length > path.length) return true;
  }
  return false;
}

/**
 * The nodes a longest-prefix walk visits for `number`, deepest first, then
 * the defaults. As in OpenSIPS (prefix_tree.c), a character outside the
 * alphabet that the walk reaches abandons the prefix match altogether:
 * only the default rules remain (`+44…` against a digits-only alphabet).
 */
export function walkPrefixes(table: RoutingTable, group: GroupRules, number: string): PrefixWalk {
  let validLength = 0;
  while (validLength < number.length && table.prefixAlphabet.has(number[validLength] ?? '')) validLength++;

  const nodes: PrefixNode[] = [];
  let abandonedAt: PrefixWalk['abandonedAt'];
  if (validLength < number.length && walkReadsPast(table.sortedPrefixes, number.slice(0, validLength))) {
    abandonedAt = { position: validLength + 1, character: number[validLength] ?? '' };
  } else {
    for (let length = Math.min(validLength, group.longestPrefix); length > 0; length--) {
      const prefix = number.slice(0, length);
      const rules = group.byPrefix.get(prefix);
      if (rules) nodes.push({ prefix, rules });
    }
  }
  if (group.defaults.length > 0) nodes.push({ prefix: '', rules: group.defaults });
  return { nodes, abandonedAt };
}
