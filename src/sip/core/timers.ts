/**
 * The RFC 3261 transaction timers (§17, Table 4), with the RFC's default
 * values, and the RFC 6026 timers that replace the 2xx handling of the INVITE
 * transactions. The client and server transactions (src/sip/native/) and
 * whatever counts on a transaction's length read them here.
 */

/** T1: the round-trip estimate, the first retransmission interval (§17.1.1.1). */
export const T1_MS = 500;
/** T2: the longest retransmission interval of a non-INVITE request or an INVITE's final response. */
export const T2_MS = 4000;
/** T4: the longest a message stays in the network (timers I and K over UDP). */
export const T4_MS = 5000;

/** Timer B: an INVITE client transaction's longest wait for any response (64·T1). */
export const TIMER_B_MS = 64 * T1_MS;
/**
 * Timer D: how long an INVITE client transaction absorbs retransmitted
 * finals (≥32 s over UDP); kept 64·T1 whatever the transport here, the
 * same as timer M (RFC 6026), so one linger serves both.
 */
export const TIMER_D_MS = 64 * T1_MS;
/** Timer M (RFC 6026): an INVITE client transaction passes 2xx retransmissions upstream this long. */
export const TIMER_M_MS = 64 * T1_MS;
/** Timer F: a non-INVITE client transaction's longest wait for a final (64·T1). */
export const TIMER_F_MS = 64 * T1_MS;
/** Timer K: a non-INVITE client transaction absorbs retransmitted finals this long over UDP (0 over TCP). */
export const TIMER_K_MS = T4_MS;

/** Timer H: an INVITE server transaction waits this long for the ACK of its non-2xx final. */
export const TIMER_H_MS = 64 * T1_MS;
/** Timer I: once ACKed, it absorbs ACK retransmissions this long over UDP (0 over TCP). */
export const TIMER_I_MS = T4_MS;
/** Timer J: a non-INVITE server transaction answers retransmitted requests this long over UDP (0 over TCP). */
export const TIMER_J_MS = 64 * T1_MS;
/** Timer L (RFC 6026): an INVITE server transaction absorbs retransmitted INVITEs this long after its 2xx. */
export const TIMER_L_MS = 64 * T1_MS;

/** Timer A's next interval (§17.1.1.2): an INVITE's retransmissions double without bound. */
export function timerANextMs(intervalMs: number): number {
  return intervalMs * 2;
}

/** Timers E and G's next interval (§17.1.2.2, §17.2.1): doubled, up to T2. */
export function doubledUpToT2Ms(intervalMs: number): number {
  return Math.min(intervalMs * 2, T2_MS);
}
