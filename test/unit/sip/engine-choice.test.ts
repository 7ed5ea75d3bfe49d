import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { unhonouredSettings } from '../../../src/sip/engine-choice.js';

describe('settings an engine does not honour', () => {
  const drachtio = { sip: { engine: 'drachtio' } };

  it('names the fork settings set away from their defaults with the drachtio engine', () => {
    const config = configSchema.parse({
      ...drachtio,
      proxy: { inviteTimeoutMs: 20_000, failoverCodes: [503, 'timeout'], relayLastFailure: true, timeoutMs: 800 },
    });
    expect(unhonouredSettings(config)).toEqual([
      'proxy.inviteTimeoutMs',
      'proxy.failoverCodes',
      'proxy.relayLastFailure',
    ]);
  });

  it('names nothing at the defaults, nor with the native engine, which honours them all', () => {
    expect(unhonouredSettings(configSchema.parse(drachtio))).toEqual([]);
    expect(
      unhonouredSettings(configSchema.parse({ proxy: { relayLastFailure: true, inviteTimeoutMs: 20_000 } })),
    ).toEqual([]);
  });
});
