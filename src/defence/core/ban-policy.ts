/**
 * How long a source is banned and when it is forgotten (fail2ban's
 * bantime.increment): the first ban lasts `banSeconds`, each repeat within
 * `memorySeconds` of the last ban's end doubles it, up to `maxBanSeconds`.
 * Pure.
 */
export interface BanPolicy {
  banSeconds: number;
  maxBanSeconds: number;
  memorySeconds: number;
}

/** A ban as the nodes share it. */
export interface Ban {
  address: string;
  /** Epoch ms when the ban ends. */
  untilMs: number;
  /** How many times this source was banned, this one included (within the policy's memory). */
  strikes: number;
  /** Why, for `drouter bans` and the log. */
  reason: string;
}

/** The ban a source earns now, given its previous one (still remembered, or undefined). */
export function nextBan(
  address: string,
  reason: string,
  previous: Ban | undefined,
  nowMs: number,
  policy: BanPolicy,
): Ban {
  const remembered = previous !== undefined && nowMs < forgetAt(previous, policy);
  const strikes = remembered ? previous.strikes + 1 : 1;
  const seconds = Math.min(policy.maxBanSeconds, policy.banSeconds * 2 ** (strikes - 1));
  return { address, untilMs: nowMs + seconds * 1000, strikes, reason };
}

/** When a ban's record may be dropped: its end plus the memory of repeats. */
export function forgetAt(ban: Ban, policy: Pick<BanPolicy, 'memorySeconds'>): number {
  return ban.untilMs + policy.memorySeconds * 1000;
}
