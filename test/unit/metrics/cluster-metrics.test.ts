import { describe, expect, it } from 'vitest';
import { aggregateSnapshots } from '../../../src/metrics/cluster-metrics.js';
import { Metrics } from '../../../src/metrics/metrics.js';
import { parseExposition, sampleValue } from '../../support/exposition.js';

describe("the node's /metrics under --workers N", () => {
  it('sums the counters of the workers, and shows shared gauges once', async () => {
    const workers = [new Metrics(), new Metrics(), new Metrics()];
    workers.forEach((metrics, i) => {
      for (let n = 0; n <= i; n++) metrics.sipRequest('INVITE');
      metrics.handedOff('response');
      metrics.gatewayState('1', 'active');
      metrics.countBindingsWith(async () => 7);
    });
    workers[0]?.handedOff('tcp-send');
    const { text, contentType } = await aggregateSnapshots(
      await Promise.all(workers.map((metrics) => metrics.snapshot())),
    );
    expect(contentType).toContain('text/plain');
    const families = parseExposition(text);
    expect(sampleValue(families, 'sipdr_sip_requests_total', { method: 'INVITE' })).toBe(6);
    expect(sampleValue(families, 'sipdr_worker_handoffs_total', { kind: 'response' })).toBe(3);
    expect(sampleValue(families, 'sipdr_worker_handoffs_total', { kind: 'tcp-send' })).toBe(1);
    expect(sampleValue(families, 'sipdr_worker_handoffs_total', { kind: 'request' })).toBe(0);
    // Every worker shows the same shared state: the node shows it once, not three times.
    expect(sampleValue(families, 'sipdr_gateway_up', { gateway: '1' })).toBe(1);
    expect(sampleValue(families, 'sipdr_gateway_state', { gateway: '1', state: 'active' })).toBe(1);
    expect(sampleValue(families, 'sipdr_bindings')).toBe(7);
  });
});
