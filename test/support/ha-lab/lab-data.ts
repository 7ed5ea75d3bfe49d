import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../repo-root.js';
import type { PrivateMariaDb } from './private-services.js';

/**
 * The lab's routing data and peers, in the operator's way: the tables from
 * sql/*.sql (what docs/schema.md tells operators to apply), then rows.
 */

export const LAB_DATABASE = 'drouter';

/** The phones that register once and must survive every failover: phone001 … phone200. */
export const PHONES = Array.from({ length: 200 }, (_, index) => `phone${String(index + 1).padStart(3, '0')}`);
/** Users of the REGISTER load, apart from the phones so that their bindings stay as first written. */
export const LOAD_USERS = Array.from({ length: 100 }, (_, index) => `load${String(index + 1).padStart(3, '0')}`);

/** Users registered for a moment only, whose expiry the sweep must handle once: brief01 … brief20. */
export const BRIEF_USERS = Array.from({ length: 20 }, (_, index) => `brief${String(index + 1).padStart(2, '0')}`);

export function secretOf(user: string): string {
  return `pw-${user}`;
}

/** A sipp injection row: the user and the [authentication] keyword answering its challenges. */
export function credentialsRow(user: string): string[] {
  return [user, `[authentication username=${user} password=${secretOf(user)}]`];
}

/** Numbers starting so go to gateway 3 alone, the one that rings a while (the lab's second rule). */
export const SLOW_GATEWAY_PREFIX = '777';

export interface LabGateway {
  gwid: string;
  address: string;
}

/**
 * Creates the database and its tables, then the gateways, the rules (every
 * number to `gateways` in order; `slowPrefix` to `slowGateway` alone), and
 * the peers.
 */
export async function seedLabData(
  mariadb: PrivateMariaDb,
  gateways: readonly LabGateway[],
  slow: { prefix: string; gateway: LabGateway },
): Promise<void> {
  await mariadb.query(`CREATE DATABASE ${LAB_DATABASE}`);
  const sqlDir = join(REPO_ROOT, 'sql');
  for (const file of readdirSync(sqlDir)
    .filter((name) => name.endsWith('.sql'))
    .sort()) {
    await mariadb.query(readFileSync(join(sqlDir, file), 'utf8'), [], LAB_DATABASE);
  }
  for (const gateway of [...gateways, slow.gateway]) {
    // probe_mode 2: probed always, as Asterisk servers usually are.
    await mariadb.query(
      'INSERT INTO dr_gateways (gwid, type, address, probe_mode, description) VALUES (?, 1, ?, 2, ?)',
      [gateway.gwid, gateway.address, `lab gateway ${gateway.gwid}`],
      LAB_DATABASE,
    );
  }
  await mariadb.query(
    "INSERT INTO dr_rules (groupid, prefix, gwlist, description) VALUES ('0', '', ?, 'every number, gateways in order')",
    [gateways.map((g) => g.gwid).join(',')],
    LAB_DATABASE,
  );
  await mariadb.query(
    "INSERT INTO dr_rules (groupid, prefix, gwlist, description) VALUES ('0', ?, ?, 'the slow gateway')",
    [slow.prefix, slow.gateway.gwid],
    LAB_DATABASE,
  );
  const peers = [...PHONES, ...LOAD_USERS, ...BRIEF_USERS].map((name) => [
    name,
    'friend',
    'dynamic',
    secretOf(name),
    'from-phones',
  ]);
  await mariadb.query('INSERT INTO sippeers (name, type, host, secret, context) VALUES ?', [peers], LAB_DATABASE);
}
