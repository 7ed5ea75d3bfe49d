import type { Ban } from '../defence/core/ban-policy.js';

export type { Ban };

/**
 * The bans the nodes share (memory in one process, a Redis hash when
 * several share the state). A record outlives its ban's end, so that a
 * repeat is known; the guard deletes it once forgotten.
 */
export interface BanStore {
  /** Every ban on record, ended ones too. */
  listBans(): Promise<Ban[]>;
  /** The record of one source, if any. */
  getBan(address: string): Promise<Ban | undefined>;
  putBan(ban: Ban): Promise<void>;
  /** True when a record was there. */
  deleteBan(address: string): Promise<boolean>;
}

/** A stored ban as JSON: checked field by field, so a hand-edited or foreign entry cannot pass for one. */
export function parseBan(json: string): Ban | undefined {
  try {
    const value: unknown = JSON.parse(json);
    if (typeof value !== 'object' || value === null) return undefined;
    const { address, untilMs, strikes, reason } = value as Record<string, unknown>;
    if (
      typeof address !== 'string' ||
      typeof untilMs !== 'number' ||
      typeof strikes !== 'number' ||
      typeof reason !== 'string'
    )
      return undefined;
    return { address, untilMs, strikes, reason };
  } catch {
    return undefined;
  }
}
