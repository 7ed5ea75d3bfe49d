/** A node's change of role, by its own log line (src/ha/singleton-work.ts logs each with `role` and pino's `time`). */
export interface RoleChange {
  role: 'leader' | 'standby';
  time: number;
}

type Role = RoleChange['role'];

/** A node's JSON log lines (its stdout), in the order logged; anything else it printed is left out. */
export function jsonLogLines(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').flatMap((text) => {
    try {
      const line = JSON.parse(text) as Record<string, unknown> | null;
      return typeof line === 'object' && line !== null ? [line] : [];
    } catch {
      return [];
    }
  });
}

/** The role changes among a node's JSON log lines (its stdout), in the order logged. */
export function roleChangesInLog(stdout: string): RoleChange[] {
  return jsonLogLines(stdout).flatMap((line) =>
    (line.role === 'leader' || line.role === 'standby') && typeof line.time === 'number'
      ? [{ role: line.role, time: line.time }]
      : [],
  );
}

/**
 * Moments after `from` when two nodes led at once, replaying the nodes'
 * role changes in time order (a step down first on a tie) from their roles
 * at `from` (`roleAt`, changed in place). A node logs becoming the leader
 * after Redis granted the lease and stepping down before it gives the lease
 * up, so each logged span lies within its true leadership: an overlap of
 * logged spans is a real one.
 */
export function overlappingLeadership<Node extends string>(
  changes: Record<Node, readonly RoleChange[]>,
  roleAt: Record<Node, Role>,
  from: number,
): string[] {
  const nodes = Object.keys(changes) as Node[];
  const events = nodes
    .flatMap((node) => changes[node].map((change) => ({ node, ...change })))
    .filter((event) => event.time >= from)
    .sort((x, y) => x.time - y.time || (x.role === 'standby' ? -1 : 1) - (y.role === 'standby' ? -1 : 1));
  const overlaps: string[] = [];
  for (const event of events) {
    roleAt[event.node] = event.role;
    const leaders = nodes.filter((node) => roleAt[node] === 'leader');
    if (leaders.length > 1)
      overlaps.push(
        `${event.node} led at ${new Date(event.time).toISOString()} while ${leaders.filter((node) => node !== event.node).join(', ')} led`,
      );
  }
  return overlaps;
}
