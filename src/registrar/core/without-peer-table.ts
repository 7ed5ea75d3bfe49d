import type { MethodStep } from '../../sip/pipeline.js';

/**
 * REGISTER on a database without a `sippeers` table (an operator's OpenSIPS
 * or Kamailio database that `drouter migrate` never ran on): no
 * address-of-record exists, so every REGISTER is answered 404 (RFC 3261
 * §10.3 step 3) without a challenge, which a phone would answer again and
 * again in vain. Asked per request: a reload after `drouter migrate` finds
 * the table and the registrar takes over.
 */
export function withoutPeerTable(hasPeerTable: () => boolean, register: MethodStep): MethodStep {
  return async (exchange) => {
    if (hasPeerTable()) return register(exchange);
    exchange.reply(404);
  };
}
