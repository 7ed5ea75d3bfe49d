import { UsageError } from '../../errors.js';

/**
 * The options of a "where does this number go" question, from text (the
 * CLI's flags, the admin API's query string), checked the same way for
 * both. Pure: each throws UsageError naming the option and what it wants.
 */

export interface RouteQueryText {
  from?: string | undefined;
  group?: string | undefined;
  at?: string | undefined;
  whitelist?: string | undefined;
  partition?: string | undefined;
}

export interface ParsedRouteQuery {
  caller: { user: string; domain: string } | undefined;
  group: number | undefined;
  /** undefined: now. */
  at: Date | undefined;
  whitelist: ReadonlySet<string> | undefined;
  /** dr_partitions: the partition to route in; undefined: as routing.partitions picks it. */
  partition: string | undefined;
}

function parseCaller(from: string): { user: string; domain: string } {
  const [user, domain = ''] = from.replace(/^sips?:/, '').split('@');
  if (!user) throw new UsageError(`from ${JSON.stringify(from)}: expected user@domain`);
  return { user, domain };
}

function parseGroup(group: string): number {
  if (!/^\d+$/.test(group)) throw new UsageError(`group ${JSON.stringify(group)}: expected a group number`);
  return Number(group);
}

function parseInstant(at: string): Date {
  const instant = new Date(at);
  if (Number.isNaN(instant.getTime()))
    throw new UsageError(`at ${JSON.stringify(at)}: expected an ISO-8601 time such as 2026-11-26T09:30:00Z`);
  return instant;
}

function parsePartition(partition: string): string {
  if (partition.trim() === '') throw new UsageError('partition: expected the name of a dr_partitions partition');
  return partition.trim();
}

export function parseRouteQuery(text: RouteQueryText): ParsedRouteQuery {
  return {
    caller: text.from === undefined ? undefined : parseCaller(text.from),
    group: text.group === undefined ? undefined : parseGroup(text.group),
    at: text.at === undefined ? undefined : parseInstant(text.at),
    whitelist: text.whitelist === undefined ? undefined : new Set(text.whitelist.split(',').map((id) => id.trim())),
    partition: text.partition === undefined ? undefined : parsePartition(text.partition),
  };
}
