/**
 * A token bucket per key (Kamailio pike, per source address): each key may
 * spend `burst` at once and earns `ratePerSecond` back. The number of keys
 * is bounded, for keys come from the network: past `maxKeys` the longest
 * untouched key is forgotten (it starts full again, the stranger's gain is
 * one burst). Pure: the caller gives the time.
 */
export interface BucketRate {
  ratePerSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

export class TokenBuckets {
  /** In order of last use: a Map keeps insertion order, and a touched key is moved to the end. */
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly rate: BucketRate,
    private readonly maxKeys: number,
  ) {}

  /** Spends one token of `key`'s bucket: false when it is empty (the request is over the rate). */
  take(key: string, nowMs: number): boolean {
    const bucket = this.buckets.get(key);
    const tokens = bucket
      ? Math.min(this.rate.burst, bucket.tokens + ((nowMs - bucket.atMs) / 1000) * this.rate.ratePerSecond)
      : this.rate.burst;
    if (bucket) this.buckets.delete(key);
    else if (this.buckets.size >= this.maxKeys) this.forgetOldest();
    const allowed = tokens >= 1;
    this.buckets.set(key, { tokens: allowed ? tokens - 1 : tokens, atMs: nowMs });
    return allowed;
  }

  get size(): number {
    return this.buckets.size;
  }

  private forgetOldest(): void {
    const oldest = this.buckets.keys().next();
    if (!oldest.done) this.buckets.delete(oldest.value);
  }
}
