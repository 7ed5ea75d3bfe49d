import type { PeerCache } from '../cache/cache.js';
import type { PeerRow } from '../core/model/sippeers-table.js';
import { CacheUnavailableError } from '../errors.js';
import type { Store } from '../store/store.js';

export interface PeerLookupOptions {
  /** chan_sip rtcachefriends: a peer read once stays in the cache. */
  rtcachefriends: boolean;
  /** chan_sip rtautoclear: how long a cached peer lives; 0 keeps it until its registration expires. */
  rtautoclearSeconds: number;
}

/**
 * Peers by name, as chan_sip finds realtime peers: from the sippeers row
 * every time, or with rtcachefriends from the cache after the first read
 * (so a changed row is not seen until the cached copy goes: rtautoclear,
 * or the registration's expiry).
 */
export class PeerLookup {
  constructor(
    private readonly store: Pick<Store, 'findPeerByName'>,
    private readonly cache: PeerCache,
    private readonly options: PeerLookupOptions,
  ) {}

  async find(name: string): Promise<PeerRow | undefined> {
    if (!this.options.rtcachefriends) return this.store.findPeerByName(name);
    // A cache that does not answer costs the row read it was there to save, not the call.
    const cached = await this.cache.getPeer(name).catch(orUndefinedWhenCacheDown);
    if (cached) return cached;
    const peer = await this.store.findPeerByName(name);
    if (peer) {
      const ttlMs = this.options.rtautoclearSeconds > 0 ? this.options.rtautoclearSeconds * 1000 : undefined;
      await this.cache.setPeer(name, peer, ttlMs).catch(orUndefinedWhenCacheDown);
    }
    return peer;
  }

  /**
   * Asterisk's `sip prune realtime peer NAME`: the cached copy goes, so the
   * next lookup reads the row (a changed secret counts at once). The cache
   * is the one every node shares (Redis), so it goes for all of them. False
   * when no copy was cached (rtcachefriends off, or not looked up since).
   */
  async prune(name: string): Promise<boolean> {
    const cached = await this.cache.getPeer(name);
    await this.cache.deletePeer(name);
    return cached !== undefined;
  }

  /** rtautoclear: the registration ended, so the cached peer goes. */
  async registrationEnded(name: string): Promise<void> {
    if (this.options.rtcachefriends && this.options.rtautoclearSeconds > 0) await this.cache.deletePeer(name);
  }
}

function orUndefinedWhenCacheDown(error: unknown): undefined {
  if (error instanceof CacheUnavailableError) return undefined;
  throw error;
}
