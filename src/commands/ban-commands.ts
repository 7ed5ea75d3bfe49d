import type { AdminClient } from '../admin/admin-client.js';
import { table } from '../routing/core/format-decision.js';
import { type OutputOptions, show } from './admin-commands.js';

/** A ban as the admin API answers it (src/admin/ban-routes.ts). */
interface BanJson {
  address: string;
  until: string;
  remainingSeconds: number;
  strikes: number;
  reason: string;
}

/** `drouter bans`: the sources banned now, on every node sharing the cache. */
export async function bansCommand(client: AdminClient, options: OutputOptions): Promise<void> {
  const bans = await client.get<BanJson[]>('/bans');
  show(bans, options, () =>
    bans.length === 0
      ? 'no source is banned'
      : table([
          ['address', 'until', 'left', 'ban', 'reason'],
          ...bans.map((ban) => [ban.address, ban.until, `${ban.remainingSeconds} s`, String(ban.strikes), ban.reason]),
        ]).join('\n'),
  );
}

/** `drouter unban ADDRESS`: lifts the ban on every node (exit 1 when it was not banned). */
export async function unbanCommand(client: AdminClient, address: string, options: OutputOptions): Promise<void> {
  const answer = await client.post<{ address: string; lifted: boolean }>(`/bans/${encodeURIComponent(address)}/lift`);
  show(answer, options, () => `ban of ${answer.address} lifted`);
}
