import type { RoutingRows } from '../model/routing-rows.js';
import type { RegistrationColumns, SipPeerRow } from '../model/sippeers-table.js';

export type { RoutingRows };

/** The store port: what the core needs from the database, nothing more. */
export interface Store {
  /** The store URL with any password hidden, for logs and /health. */
  readonly displayUrl: string;
  /** Throws StoreUnreachableError when the database does not answer. */
  ping(): Promise<void>;
  loadRoutingRows(): Promise<RoutingRows>;
  /** Throws RowError when the row exists but a value does not fit its column. */
  findPeerByName(name: string): Promise<SipPeerRow | undefined>;
  /** Writes registration state; resolves false when no peer has that name. */
  writeRegistration(name: string, columns: Partial<RegistrationColumns>): Promise<boolean>;
  countPeers(): Promise<number>;
  close(): Promise<void>;
}
