import { type DrGroupRow, drGroupsTable } from '../../core/model/drouting-tables.js';
import type { LoadProblems } from './load-problems.js';
import type { RoutingTable } from './routing-table.js';

/**
 * dr_groups, held in the snapshot (OpenSIPS runs an SQL query per call).
 * Matching is exact, as in OpenSIPS: no patterns (the tutorial's ".*" row
 * never matches). The domain compares case-insensitively, as DNS names do.
 */

export function callerKey(user: string, domain: string | null, useDomain: boolean): string {
  return useDomain ? `${user}@${(domain ?? '').toLowerCase()}` : user;
}

export function buildCallerGroups(
  rows: readonly DrGroupRow[],
  useDomain: boolean,
  problems: LoadProblems,
): Map<string, number> {
  const groups = new Map<string, number>();
  const firstRow = new Map<string, DrGroupRow>();
  for (const row of [...rows].sort((a, b) => a.id - b.id)) {
    if (useDomain && (row.domain === null || row.domain === '')) {
      problems.warn(
        drGroupsTable,
        row,
        'domain',
        'is empty, so with routing.useDomain true this row matches no caller',
      );
      continue;
    }
    const key = callerKey(row.username, row.domain, useDomain);
    const first = firstRow.get(key);
    if (first) {
      problems.warn(
        drGroupsTable,
        row,
        'username',
        `${key} is also in row id=${first.id} (group ${first.groupid}), which wins`,
      );
      continue;
    }
    firstRow.set(key, row);
    groups.set(key, row.groupid);
  }
  return groups;
}

export type GroupSource = 'explicit' | 'dr_groups' | 'default' | 'none';

export interface CallerGroup {
  group: number | null;
  source: GroupSource;
  detail: string;
}

/** The caller's routing group: given, else dr_groups, else routing.defaultGroup. */
export function resolveCallerGroup(
  table: RoutingTable,
  request: {
    group?: number | undefined;
    caller?: { user: string; domain: string } | undefined;
    defaultGroup: number | null;
  },
): CallerGroup {
  if (request.group !== undefined)
    return { group: request.group, source: 'explicit', detail: `group ${request.group} given` };
  const caller = request.caller;
  if (caller) {
    const key = callerKey(caller.user, caller.domain, table.useDomain);
    const found = table.callerGroups.get(key);
    if (found !== undefined)
      return { group: found, source: 'dr_groups', detail: `${key} is in group ${found} (dr_groups)` };
    if (request.defaultGroup !== null) {
      return {
        group: request.defaultGroup,
        source: 'default',
        detail: `${key} is not in dr_groups: routing.defaultGroup ${request.defaultGroup}`,
      };
    }
    return { group: null, source: 'none', detail: `${key} is not in dr_groups and routing.defaultGroup is none` };
  }
  if (request.defaultGroup !== null)
    return {
      group: request.defaultGroup,
      source: 'default',
      detail: `no caller given: routing.defaultGroup ${request.defaultGroup}`,
    };
  return { group: null, source: 'none', detail: 'no caller and no group given, and routing.defaultGroup is none' };
}
