import { isIP } from 'node:net';
import type { Ban } from '../defence/core/ban-policy.js';
import type { SourceGuard } from '../defence/source-guard-service.js';
import { AdminError, type AdminRoute } from './admin-contract.js';

/** A ban as the admin API shows it. */
export function banJson(
  ban: Ban,
  nowMs: number,
): { address: string; until: string; remainingSeconds: number; strikes: number; reason: string } {
  return {
    address: ban.address,
    until: new Date(ban.untilMs).toISOString(),
    remainingSeconds: Math.max(0, Math.round((ban.untilMs - nowMs) / 1000)),
    strikes: ban.strikes,
    reason: ban.reason,
  };
}

/** GET /bans (the bans in force on every node) and POST /bans/:address/lift (`drouter unban`). */
export function banRoutes(guard: Pick<SourceGuard, 'activeBans' | 'unban'>, now: () => number): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/bans',
      handler: async () => ({ status: 200, body: (await guard.activeBans()).map((ban) => banJson(ban, now())) }),
    },
    {
      method: 'POST',
      path: '/bans/:address/lift',
      handler: async (request) => {
        const address = request.params.address ?? '';
        if (isIP(address) === 0)
          throw new AdminError(400, 'DROUTER_ERR_USAGE', `${JSON.stringify(address)} is not an IP address`);
        const lifted = await guard.unban(address);
        if (!lifted) throw new AdminError(404, 'DROUTER_ERR_NOT_FOUND', `${address} is not banned`);
        return { status: 200, body: { address, lifted: true } };
      },
    },
  ];
}
