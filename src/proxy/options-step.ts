import type { MethodStep } from '../sip/pipeline.js';

/**
 * OPTIONS to the proxy itself (phones' and Asterisk's keep-alive pings):
 * 200 with what we allow and accept (RFC 3261 §11.2).
 */
export function optionsStep(allowedMethods: () => readonly string[]): MethodStep {
  return async (exchange) => {
    exchange.reply(200, {
      headers: {
        Allow: allowedMethods().join(', '),
        Accept: 'application/sdp',
        'Accept-Encoding': 'identity',
        'Accept-Language': 'en',
      },
    });
  };
}
