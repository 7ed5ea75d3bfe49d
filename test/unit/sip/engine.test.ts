import { describe, expect, it } from 'vitest';
import type {
  ForkControl,
  OwnForkExchange,
  ProxyOptions,
  ProxyResult,
  ServerExchange,
  ServerForkExchange,
  SipRequest,
} from '../../../src/sip/engine.js';

const RESULT: ProxyResult = { outcome: 'failed', attempts: [], status: 503 };
const OPTIONS: ProxyOptions = { recordRoute: true, noResponseTimeoutMs: 800 };
const CONTROL: ForkControl = { inviteTimeoutMs: 1500, tryNext: () => true, whenExhausted: () => 503 };

/** An exchange of either kind that keeps the options its proxy() was given. */
function exchangeOf(forking: 'ours' | 'server', given: object[]): ServerExchange {
  const base = { request: {} as SipRequest, finalSent: false, reply: () => undefined };
  const proxy = (_targets: unknown, options: object) => {
    given.push(options);
    return Promise.resolve(RESULT);
  };
  return forking === 'ours'
    ? ({ ...base, forking, proxy } satisfies OwnForkExchange)
    : ({ ...base, forking, proxy } satisfies ServerForkExchange);
}

// The checks that matter are the @ts-expect-error lines: `tsc -p test/tsconfig.json` fails when one of them compiles.
describe('the engine port says what an engine can do', () => {
  it('lets a fork of ours take the failover policy, and refuses it to a fork the SIP server runs (typechecked)', async () => {
    const given: object[] = [];
    const exchange = exchangeOf('server', given);
    // @ts-expect-error proxy() of an exchange whose forking is not known takes nothing: narrow it first.
    await exchange.proxy([], { ...OPTIONS, ...CONTROL });
    if (exchange.forking === 'server') {
      // @ts-expect-error drachtio-server decides failover itself: tryNext would be ignored there.
      await exchange.proxy([], { ...OPTIONS, ...CONTROL });
      // @ts-expect-error nor does it take our rewrites of the request.
      await exchange.proxy([], { ...OPTIONS, consumeCredentials: true });
      await exchange.proxy([], OPTIONS);
    }
    const ours = exchangeOf('ours', given);
    if (ours.forking === 'ours') {
      // @ts-expect-error a fork of ours needs the policy.
      await ours.proxy([], OPTIONS);
      await ours.proxy([], { ...OPTIONS, ...CONTROL });
    }
    expect(given.map((options) => 'tryNext' in options)).toEqual([true, true, false, false, false, true]);
  });
});
