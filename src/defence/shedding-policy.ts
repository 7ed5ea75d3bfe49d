/**
 * When to turn new work away (load shedding): the share of new INVITEs and
 * REGISTERs answered 503 grows with how late the event loop runs past its
 * budget — none at `maxLagMs`, all at twice it — and every one is turned
 * away while `maxInvitesInProgress` INVITEs are being proxied already.
 * Shedding in proportion keeps goodput near capacity where all-or-nothing
 * would swing between collapse and idle. Pure.
 */
export interface SheddingLimits {
  /** Event-loop lag over which new work is shed; 0: never for lag. */
  maxLagMs: number;
  /** INVITEs in progress at which every new one is shed; 0: no cap. */
  maxInvitesInProgress: number;
}

export function shedShare(lagMs: number, invitesInProgress: number, limits: SheddingLimits): number {
  if (limits.maxInvitesInProgress > 0 && invitesInProgress >= limits.maxInvitesInProgress) return 1;
  if (limits.maxLagMs <= 0 || lagMs <= limits.maxLagMs) return 0;
  return Math.min(1, (lagMs - limits.maxLagMs) / limits.maxLagMs);
}

/** New work that may be shed: a REGISTER, or an INVITE that starts a call (no To tag); never what runs inside a call. */
export function mayShed(method: string, inDialog: boolean): boolean {
  return method === 'REGISTER' || (method === 'INVITE' && !inDialog);
}
