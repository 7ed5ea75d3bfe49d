import type { RoutingRows, RoutingRowStream } from '../core/model/routing-rows.js';
import type { RowProblem } from '../errors.js';
import type { AddressRow } from '../core/model/address-table.js';
import type { StoreLayout } from '../core/model/table-layouts.js';
import type { PeerRow, RegistrationColumnSizes, RegistrationColumns } from '../core/model/sippeers-table.js';

export type { RoutingRows, RoutingRowStream };

/** The names of the values the nodes share (drouter_shared). */
export type SharedValueName = 'secret';

/** The store port: what the core needs from the database, nothing more. */
export interface Store {
  /** The store URL with any password hidden, for logs and /health. */
  readonly displayUrl: string;
  /** Throws StoreUnreachableError when the database does not answer. */
  ping(): Promise<void>;
  loadRoutingRows(): Promise<RoutingRows>;
  /** How the tables are read (which are absent, which columns take defaults), as read at start and at the last reload. */
  layout(): StoreLayout;
  /** The same rows with dr_rules read in pages, so a large table never sits in memory whole. */
  streamRoutingRows(): Promise<RoutingRowStream>;
  /** Throws RowError when the row exists but a value does not fit its column. */
  findPeerByName(name: string): Promise<PeerRow | undefined>;
  /**
   * Writes registration state; resolves false when no peer has that name
   * (or, with `expiredBy`, when its regseconds is later than that epoch
   * second: the expiry sweep clears only a registration still expired).
   */
  writeRegistration(
    name: string,
    columns: Partial<RegistrationColumns>,
    options?: { expiredBy?: number },
  ): Promise<boolean>;
  /**
   * The sizes the database enforces on sippeers' registration columns
   * (MySQL/MariaDB: information_schema); none on SQLite, which stores a
   * value of any length whatever the declared VARCHAR(n).
   */
  registrationColumnSizes(): Promise<RegistrationColumnSizes>;
  countPeers(): Promise<number>;
  /**
   * Peers whose row says they are registered (regseconds after `nowSeconds`,
   * a fullcontact), by name after `after`, at most `limit`: a page of the
   * cache's refill. `last` is the last name read (for the next page),
   * undefined after the last page; a row whose values do not fit is left out
   * and named in `problems`.
   */
  registeredPeers(
    after: string,
    limit: number,
    nowSeconds: number,
  ): Promise<{ rows: PeerRow[]; problems: RowProblem[]; last: string | undefined }>;
  /** Every peer (the registrar's columns), by name (`GET /peers`); `staticHostsOnly`: those whose `host` is not `dynamic` (matched by their address). */
  listPeers(options?: { staticHostsOnly?: boolean }): Promise<PeerRow[]>;
  /** Writes dr_gateways.state by gwid in one transaction (probe.persistState); a gwid no row has is skipped. */
  writeGatewayStates(states: ReadonlyMap<string, number>): Promise<void>;
  /**
   * The value every node agrees on under `name` (drouter_shared): the one
   * stored, else `candidate`, stored now. Two nodes asking at once get the
   * same answer. Undefined when the database has no drouter_shared (an
   * operator's database that `drouter migrate` never ran on).
   */
  sharedValue(name: SharedValueName, candidate: string): Promise<string | undefined>;
  /** The `address` table (trusted sources); a row with a wrong value is left out and named in `problems`. */
  loadAddresses(): Promise<{ rows: AddressRow[]; problems: RowProblem[] }>;
  /** Writes dr_carriers.state of one carrier (0 enabled, 1 disabled). */
  writeCarrierState(carrierid: string, state: number): Promise<void>;
  close(): Promise<void>;
}
