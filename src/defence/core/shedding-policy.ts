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

/** The weight of each 100 ms reading in the smoothed busy share: a time constant of about 350 ms. */
const UTILIZATION_SMOOTHING = 0.25;

/**
 * The busy share the shedding reads: each 100 ms reading folded into an
 * exponential average. A single busy window (a major garbage collection, a
 * burst, the machine's other tenants taking the core) is no overload: read
 * raw, such windows shed calls at half the load the process carries (the
 * calls benchmark failed on them at 40-60 % of a core). A loop saturated for
 * real passes 0.9 from 0.5 within about 600 ms.
 */
export function smoothedUtilization(previous: number, reading: number): number {
  return previous + UTILIZATION_SMOOTHING * (reading - previous);
}

/** How far the utilization-driven share moves per sample: up fast, down slower, so that it settles instead of swinging. */
const UTILIZATION_STEP_UP = 0.1;
const UTILIZATION_STEP_DOWN = 0.05;
/** Below the limit by this much before the share comes down (hysteresis). */
const UTILIZATION_SLACK = 0.1;
/** Utilization alone never sheds everything: what still gets through shows when the load eases. */
const UTILIZATION_MAX_SHARE = 0.95;

/**
 * The share shed for a busy event loop, adjusted once per sample: a loop
 * busy past `maxUtilization` of its time sheds more, one below it by
 * UTILIZATION_SLACK sheds less. Over UDP the backlog hides in the socket's
 * buffer (the loop reads a few datagrams per turn and its timers stay on
 * time), so the time the loop spends busy is the measure that sees it.
 */
export function nextUtilizationShare(previous: number, utilization: number, maxUtilization: number): number {
  if (maxUtilization >= 1) return 0;
  if (utilization > maxUtilization) return Math.min(UTILIZATION_MAX_SHARE, previous + UTILIZATION_STEP_UP);
  if (utilization < maxUtilization - UTILIZATION_SLACK) return Math.max(0, previous - UTILIZATION_STEP_DOWN);
  return previous;
}

/** New work that may be shed: a REGISTER, or an INVITE that starts a call (no To tag); never what runs inside a call. */
export function mayShed(method: string, inDialog: boolean): boolean {
  return method === 'REGISTER' || (method === 'INVITE' && !inDialog);
}
