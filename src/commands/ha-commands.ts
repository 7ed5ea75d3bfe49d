import { type AdminClient, AdminUnreachableError } from '../admin/admin-client.js';
import type { HaConfig } from '../config/schema.js';
import { UsageError } from '../errors.js';
import { parseNotifyArguments, writeKeepalivedState } from '../ha/keepalived-state.js';
import type { LeadershipStatus } from '../ha/leadership.js';
import type { OutputOptions } from './admin-commands.js';

/**
 * keepalived's side of a node: `drouter ha check` for its track_script,
 * `drouter ha notify` for its notify script, `drouter ha status` for people.
 */

interface CheckJson {
  ok: boolean;
  url?: string;
  error?: string;
  detail?: string;
}

interface HealthJson {
  status: 'ok' | 'degraded';
  store: CheckJson;
  cache: CheckJson;
  sip: CheckJson & { listening: string };
  ha: LeadershipStatus;
}

function statusText(status: LeadershipStatus): string {
  return `${status.holder}: ${status.role}${status.token === null ? '' : ` (token ${status.token})`}; keepalived ${status.keepalived}; lease held by ${status.leaseHolder ?? 'nobody'}`;
}

/**
 * `drouter ha check`: exit 0 when the node's SIP engine, store and cache
 * are healthy, 1 when one is not (keepalived then lowers the node's
 * priority or faults it, and the virtual IP moves), 3 when the node does
 * not answer at all.
 */
export async function haCheckCommand(client: AdminClient, options: OutputOptions): Promise<number> {
  const health = await client.get<HealthJson>('/health');
  const failing = (['sip', 'store', 'cache'] as const).filter((part) => !health[part].ok);
  if (options.json) console.log(JSON.stringify(health, null, 2));
  else if (failing.length === 0)
    console.log(`healthy: SIP ${health.sip.listening}, store and cache answer; ${statusText(health.ha)}`);
  else
    console.log(
      `unhealthy: ${failing.map((part) => `${part} ${health[part].error ?? health[part].detail ?? 'not ok'}`).join('; ')}`,
    );
  return failing.length === 0 ? 0 : 1;
}

/**
 * `drouter ha notify [TYPE NAME] STATE [PRIORITY]`: records keepalived's
 * state in ha.keepalivedStateFile, which the node reads at start and at
 * every lease renewal, and tells the running node at once. A node that is
 * not running is no error: it reads the file when it starts.
 */
export async function haNotifyCommand(
  ha: Readonly<HaConfig>,
  client: AdminClient,
  args: readonly string[],
  options: OutputOptions,
): Promise<void> {
  const state = parseNotifyArguments(args);
  if (ha.keepalivedStateFile === '') {
    throw new UsageError(
      "ha.keepalivedStateFile is not set: the node would not know keepalived's state; set it (the same file in the node's configuration)",
    );
  }
  await writeKeepalivedState(ha.keepalivedStateFile, state);
  try {
    const status = await client.post<LeadershipStatus>('/ha/keepalived', { state });
    if (options.json) console.log(JSON.stringify(status, null, 2));
    else console.log(`keepalived ${state} recorded in ${ha.keepalivedStateFile}; ${statusText(status)}`);
  } catch (error) {
    if (!(error instanceof AdminUnreachableError)) throw error;
    console.error(
      `keepalived ${state} recorded in ${ha.keepalivedStateFile}; the node does not answer (${error.message}): it reads the file when it starts`,
    );
  }
}

/** `drouter ha status`: this node's role, keepalived's view and the lease's holder. */
export async function haStatusCommand(client: AdminClient, options: OutputOptions): Promise<void> {
  const status = await client.get<LeadershipStatus>('/ha');
  console.log(options.json ? JSON.stringify(status, null, 2) : statusText(status));
}
