import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { SipEngine } from '../../src/sip/engine.js';
import { NativeEngine } from '../../src/sip/native/native-engine.js';
import { createPipeline } from '../../src/sip/pipeline.js';
import { freePort } from '../support/drouter-process.js';
import { ScriptedGateway } from '../support/scripted-gateway.js';

/** Requests of our own (the prober's OPTIONS): engine on 127.0.0.70, a stand-in gateway on 127.0.0.71. */
describe('the engine sends a request of its own', () => {
  let engine: SipEngine;
  let gateway: ScriptedGateway;
  const faults: unknown[] = [];

  beforeAll(async () => {
    engine = new NativeEngine({
      address: '127.0.0.70',
      port: await freePort(),
      transports: ['udp'],
      tcp: configSchema.parse({}).sip.tcp,
      onError: (error) => faults.push(error),
      acceptsDialogAck: () => false,
    });
    await engine.start(
      createPipeline({ local: engine.local, steps: {}, log: createLogger('silent'), observer: new Metrics() }),
    );
    gateway = await ScriptedGateway.start('127.0.0.71');
  });
  afterAll(async () => {
    gateway?.close();
    await engine?.stop();
  });

  const options = () =>
    engine.request(
      {
        method: 'OPTIONS',
        uri: 'sip:127.0.0.71:5060',
        destination: { address: '127.0.0.71', port: 5060, transport: 'udp' },
        from: 'sip:prober@localhost',
      },
      { timeoutMs: 600 },
    );

  it('gets the final response with its round trip, and sends a well-formed OPTIONS', async () => {
    gateway.optionsReply = 404;
    gateway.received.length = 0;
    const outcome = await options();
    expect(outcome).toMatchObject({ kind: 'response', status: 404 });
    expect(outcome.kind === 'response' && outcome.rttMs).toBeLessThan(600);
    const [sent] = gateway.requests('OPTIONS');
    expect(sent?.uri).toBe('sip:127.0.0.71:5060');
    expect(sent?.headers.from?.uri).toBe('sip:prober@localhost');
    expect(sent?.headers.from?.params.tag).toMatch(/^[0-9a-f]{12}$/);
    expect(sent?.headers.via?.[0]?.params.branch).toMatch(/^z9hG4bK/);
    expect(sent?.headers.cseq).toEqual({ seq: 1, method: 'OPTIONS' });
    expect(sent?.headers['max-forwards']).toBe('70');
  });

  it('retransmits over UDP and ends as a timeout when nothing answers', async () => {
    gateway.optionsReply = 'silent';
    gateway.received.length = 0;
    const outcome = await options();
    expect(outcome.kind).toBe('timeout');
    expect(outcome.kind === 'timeout' && outcome.rttMs).toBeGreaterThanOrEqual(590);
    // Timer E: the first send, then again at 500 ms.
    expect(gateway.requests('OPTIONS').length).toBe(2);
  });

  it('reports a host that does not resolve as not sent, without waiting for the timeout', async () => {
    const started = Date.now();
    const outcome = await engine.request(
      {
        method: 'OPTIONS',
        uri: 'sip:gw.invalid',
        destination: { address: 'gw.invalid', port: 5060, transport: 'udp' },
        from: 'sip:prober@localhost',
      },
      { timeoutMs: 5000 },
    );
    expect(outcome.kind).toBe('send-failed');
    expect(outcome.kind === 'send-failed' && outcome.error).toMatch(/gw\.invalid/);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('reports a transport it does not run as not sent, and keeps no transaction for it', async () => {
    const before = engine.stats().clientTransactions;
    const outcome = await engine.request(
      {
        method: 'OPTIONS',
        uri: 'sip:127.0.0.71:5060;transport=tcp',
        destination: { address: '127.0.0.71', port: 5060, transport: 'tcp' },
        from: 'sip:prober@localhost',
      },
      { timeoutMs: 600 },
    );
    expect(outcome).toEqual({ kind: 'send-failed', error: 'no TCP transport: sip.transports does not include it' });
    expect(engine.stats().clientTransactions).toBe(before);
  });
});
