import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/metrics/metrics.js';
import { ExpositionError, parseExposition, sampleValue, type MetricFamily } from '../../support/exposition.js';

async function scrape(metrics: Metrics): Promise<Map<string, MetricFamily>> {
  return parseExposition((await metrics.exposition()).text);
}

function samplesOf(families: ReadonlyMap<string, MetricFamily>) {
  return [...families.values()].flatMap((family) => family.samples);
}

/** The values of a one-label metric, by that label's value. */
function countsByLabel(families: ReadonlyMap<string, MetricFamily>, name: string): Record<string, number> {
  return Object.fromEntries(
    families.get(name)?.samples.map((sample) => [Object.values(sample.labels).join(), sample.value]) ?? [],
  );
}

describe('metrics', () => {
  it('serves the Prometheus text format, version 0.0.4', async () => {
    const { contentType, text } = await new Metrics().exposition();
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text).toMatch(/^# HELP sipdr_/);
  });

  it("sets a gateway's up gauge and its one current state, the two other states 0", async () => {
    const metrics = new Metrics();
    metrics.gatewayState('gw1', 'active');
    let families = await scrape(metrics);
    expect(families.get('sipdr_gateway_up')?.type).toBe('gauge');
    expect(sampleValue(families, 'sipdr_gateway_up', { gateway: 'gw1' })).toBe(1);
    expect(families.get('sipdr_gateway_state')?.samples.map((sample) => [sample.labels.state, sample.value])).toEqual([
      ['active', 1],
      ['probing-disabled', 0],
      ['admin-disabled', 0],
    ]);

    metrics.gatewayState('gw1', 'probing-disabled');
    families = await scrape(metrics);
    expect(sampleValue(families, 'sipdr_gateway_up', { gateway: 'gw1' })).toBe(0);
    expect(sampleValue(families, 'sipdr_gateway_state', { gateway: 'gw1', state: 'active' })).toBe(0);
    expect(sampleValue(families, 'sipdr_gateway_state', { gateway: 'gw1', state: 'probing-disabled' })).toBe(1);
    expect(sampleValue(families, 'sipdr_gateway_state', { gateway: 'gw1', state: 'admin-disabled' })).toBe(0);

    metrics.gatewayState('gw1', 'admin-disabled');
    families = await scrape(metrics);
    expect(sampleValue(families, 'sipdr_gateway_up', { gateway: 'gw1' })).toBe(0);
    expect(sampleValue(families, 'sipdr_gateway_state', { gateway: 'gw1', state: 'probing-disabled' })).toBe(0);
    expect(sampleValue(families, 'sipdr_gateway_state', { gateway: 'gw1', state: 'admin-disabled' })).toBe(1);
  });

  it('counts state changes by gateway and the state entered', async () => {
    const metrics = new Metrics();
    metrics.gatewayStateChanged('gw1', 'probing-disabled');
    metrics.gatewayStateChanged('gw1', 'active');
    metrics.gatewayStateChanged('gw1', 'probing-disabled');
    metrics.gatewayStateChanged('gw2', 'admin-disabled');
    const families = await scrape(metrics);
    expect(families.get('sipdr_gateway_state_changes_total')?.type).toBe('counter');
    expect(
      sampleValue(families, 'sipdr_gateway_state_changes_total', { gateway: 'gw1', state: 'probing-disabled' }),
    ).toBe(2);
    expect(sampleValue(families, 'sipdr_gateway_state_changes_total', { gateway: 'gw1', state: 'active' })).toBe(1);
    expect(
      sampleValue(families, 'sipdr_gateway_state_changes_total', { gateway: 'gw2', state: 'admin-disabled' }),
    ).toBe(1);
  });

  it('forgets every series of a gateway a reload removed, and keeps the others', async () => {
    const metrics = new Metrics();
    for (const gwid of ['gw1', 'gw2']) {
      metrics.gatewayState(gwid, 'active');
      metrics.gatewayStateChanged(gwid, 'active');
      metrics.probeRtt(gwid, 0.01);
      for (const reason of ['timeout', 'negative-reply', 'send-failed'] as const) metrics.probeFailed(gwid, reason);
      metrics.failover(gwid);
    }
    const gatewaysOf = (families: ReadonlyMap<string, MetricFamily>) =>
      samplesOf(families).map((sample) => sample.labels.gateway);
    const before = gatewaysOf(await scrape(metrics));
    expect(before.filter((gateway) => gateway === 'gw1')).toHaveLength(
      before.filter((gateway) => gateway === 'gw2').length,
    );
    expect(before.filter((gateway) => gateway === 'gw1').length).toBeGreaterThan(20);

    metrics.forgetGateway('gw1');
    const families = await scrape(metrics);
    expect(gatewaysOf(families).filter((gateway) => gateway === 'gw1')).toEqual([]);
    expect(gatewaysOf(families).filter((gateway) => gateway === 'gw2')).toHaveLength(
      before.filter((gateway) => gateway === 'gw2').length,
    );
    expect(sampleValue(families, 'sipdr_failovers_total', { gateway: 'gw2' })).toBe(1);
  });

  it('records probe round trips in a histogram of seconds, with buckets from 1 ms to 5 s', async () => {
    const metrics = new Metrics();
    metrics.probeRtt('gw1', 0.003);
    metrics.probeRtt('gw1', 0.2);
    metrics.probeRtt('gw1', 7);
    metrics.probeRtt('gw2', 0.0005);
    const families = await scrape(metrics);
    expect(families.get('sipdr_probe_rtt_seconds')?.type).toBe('histogram');
    expect(sampleValue(families, 'sipdr_probe_rtt_seconds_count', { gateway: 'gw1' })).toBe(3);
    expect(sampleValue(families, 'sipdr_probe_rtt_seconds_sum', { gateway: 'gw1' })).toBeCloseTo(7.203, 9);
    const buckets = families
      .get('sipdr_probe_rtt_seconds')
      ?.samples.filter((sample) => sample.name === 'sipdr_probe_rtt_seconds_bucket' && sample.labels.gateway === 'gw1')
      .map((sample) => [sample.labels.le, sample.value]);
    expect(buckets).toEqual([
      ['0.001', 0],
      ['0.0025', 0],
      ['0.005', 1],
      ['0.01', 1],
      ['0.025', 1],
      ['0.05', 1],
      ['0.1', 1],
      ['0.25', 2],
      ['0.5', 2],
      ['1', 2],
      ['2.5', 2],
      ['5', 2],
      ['+Inf', 3],
    ]);
    expect(sampleValue(families, 'sipdr_probe_rtt_seconds_bucket', { gateway: 'gw2', le: '0.001' })).toBe(1);
    expect(sampleValue(families, 'sipdr_probe_rtt_seconds_count', { gateway: 'gw2' })).toBe(1);
  });

  it('counts probe failures by gateway and reason, and failovers by gateway', async () => {
    const metrics = new Metrics();
    metrics.probeFailed('gw1', 'timeout');
    metrics.probeFailed('gw1', 'timeout');
    metrics.probeFailed('gw1', 'negative-reply');
    metrics.probeFailed('gw2', 'send-failed');
    metrics.failover('gw1');
    metrics.failover('gw2');
    metrics.failover('gw2');
    const families = await scrape(metrics);
    expect(sampleValue(families, 'sipdr_probe_failures_total', { gateway: 'gw1', reason: 'timeout' })).toBe(2);
    expect(sampleValue(families, 'sipdr_probe_failures_total', { gateway: 'gw1', reason: 'negative-reply' })).toBe(1);
    expect(
      sampleValue(families, 'sipdr_probe_failures_total', { gateway: 'gw1', reason: 'send-failed' }),
    ).toBeUndefined();
    expect(sampleValue(families, 'sipdr_probe_failures_total', { gateway: 'gw2', reason: 'send-failed' })).toBe(1);
    expect(sampleValue(families, 'sipdr_failovers_total', { gateway: 'gw1' })).toBe(1);
    expect(sampleValue(families, 'sipdr_failovers_total', { gateway: 'gw2' })).toBe(2);
  });

  it('counts routing decisions, registrations and reloads by label, each known label from 0', async () => {
    const metrics = new Metrics();
    const fresh = await scrape(metrics);
    expect(countsByLabel(fresh, 'sipdr_routing_decisions_total')).toEqual({
      routed: 0,
      'no-rule': 0,
      'no-gateway': 0,
      registered: 0,
      offline: 0,
    });
    expect(countsByLabel(fresh, 'sipdr_registrations_total')).toEqual({
      registered: 0,
      refreshed: 0,
      unregistered: 0,
      challenged: 0,
      failed: 0,
    });
    expect(countsByLabel(fresh, 'sipdr_reloads_total')).toEqual({ ok: 0, failed: 0 });

    metrics.routingDecision('routed');
    metrics.routingDecision('routed');
    metrics.routingDecision('offline');
    metrics.registration('challenged');
    metrics.registration('registered');
    metrics.registration('challenged');
    metrics.reload('failed');
    const counted = await scrape(metrics);
    expect(countsByLabel(counted, 'sipdr_routing_decisions_total')).toEqual({
      routed: 2,
      'no-rule': 0,
      'no-gateway': 0,
      registered: 0,
      offline: 1,
    });
    expect(countsByLabel(counted, 'sipdr_registrations_total')).toEqual({
      registered: 1,
      refreshed: 0,
      unregistered: 0,
      challenged: 2,
      failed: 0,
    });
    expect(countsByLabel(counted, 'sipdr_reloads_total')).toEqual({ ok: 0, failed: 1 });
  });

  it('sets the rows skipped per drouting table at each load, 0 for a table with none', async () => {
    const metrics = new Metrics();
    const skipped = async () => countsByLabel(await scrape(metrics), 'sipdr_routing_rows_skipped');
    expect(await skipped()).toEqual({ dr_gateways: 0, dr_rules: 0, dr_carriers: 0, dr_groups: 0, dr_gw_lists: 0 });
    metrics.routingRowsSkipped(['dr_rules', 'dr_gateways', 'dr_rules']);
    expect(await skipped()).toEqual({ dr_gateways: 1, dr_rules: 2, dr_carriers: 0, dr_groups: 0, dr_gw_lists: 0 });
    metrics.routingRowsSkipped([]);
    expect(await skipped()).toEqual({ dr_gateways: 0, dr_rules: 0, dr_carriers: 0, dr_groups: 0, dr_gw_lists: 0 });
  });

  it('counts requests by method: the known SIP methods as they are, anything else (even lower case) as other', async () => {
    const metrics = new Metrics();
    for (const method of ['INVITE', 'INVITE', 'REGISTER', 'PUBLISH', 'FOO', 'invite', '']) metrics.sipRequest(method);
    const families = await scrape(metrics);
    expect(sampleValue(families, 'sipdr_sip_requests_total', { method: 'INVITE' })).toBe(2);
    expect(sampleValue(families, 'sipdr_sip_requests_total', { method: 'REGISTER' })).toBe(1);
    expect(sampleValue(families, 'sipdr_sip_requests_total', { method: 'PUBLISH' })).toBe(1);
    expect(sampleValue(families, 'sipdr_sip_requests_total', { method: 'other' })).toBe(3);
    expect(sampleValue(families, 'sipdr_sip_requests_total', { method: 'FOO' })).toBeUndefined();
    expect(families.get('sipdr_sip_requests_total')?.samples).toHaveLength(15);
  });

  it('counts responses sent by method and 3-digit code; codes outside 100–699 as other', async () => {
    const metrics = new Metrics();
    metrics.sipResponse('INVITE', 180);
    metrics.sipResponse('INVITE', 200);
    metrics.sipResponse('INVITE', 200);
    metrics.sipResponse('REGISTER', 401);
    metrics.sipResponse('FOO', 501);
    metrics.sipResponse('OPTIONS', 99);
    metrics.sipResponse('OPTIONS', 700);
    metrics.sipResponse('OPTIONS', 200.5);
    const families = await scrape(metrics);
    expect(
      families
        .get('sipdr_sip_responses_total')
        ?.samples.map((sample) => [sample.labels.method, sample.labels.code, sample.value]),
    ).toEqual([
      ['INVITE', '180', 1],
      ['INVITE', '200', 2],
      ['REGISTER', '401', 1],
      ['other', '501', 1],
      ['OPTIONS', 'other', 3],
    ]);
  });

  it('reads the bindings gauge from its async source at each scrape', async () => {
    const metrics = new Metrics();
    let count = 3;
    metrics.countBindingsWith(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return count;
    });
    expect(sampleValue(await scrape(metrics), 'sipdr_bindings')).toBe(3);
    count = 41;
    expect(sampleValue(await scrape(metrics), 'sipdr_bindings')).toBe(41);
  });

  it('leaves the bindings gauge out of a scrape whose source throws (or is not set), and serves the rest', async () => {
    const metrics = new Metrics();
    metrics.routingDecision('routed');
    const unset = await scrape(metrics);
    expect(unset.get('sipdr_bindings')?.samples).toEqual([]);

    let storeDown = false;
    metrics.countBindingsWith(async () => {
      if (storeDown) throw new Error('cannot reach the store');
      return 12;
    });
    expect(sampleValue(await scrape(metrics), 'sipdr_bindings')).toBe(12);
    storeDown = true;
    const failed = await scrape(metrics);
    expect(failed.get('sipdr_bindings')).toMatchObject({ type: 'gauge', samples: [] });
    expect(sampleValue(failed, 'sipdr_routing_decisions_total', { outcome: 'routed' })).toBe(1);
    storeDown = false;
    expect(sampleValue(await scrape(metrics), 'sipdr_bindings')).toBe(12);
  });

  it('keeps the values of two instances apart', async () => {
    const first = new Metrics();
    const second = new Metrics();
    first.routingDecision('routed');
    first.gatewayState('gw1', 'active');
    second.gatewayState('gw1', 'admin-disabled');
    second.countBindingsWith(async () => 5);
    const [fromFirst, fromSecond] = await Promise.all([scrape(first), scrape(second)]);
    expect(sampleValue(fromFirst, 'sipdr_routing_decisions_total', { outcome: 'routed' })).toBe(1);
    expect(sampleValue(fromSecond, 'sipdr_routing_decisions_total', { outcome: 'routed' })).toBe(0);
    expect(sampleValue(fromFirst, 'sipdr_gateway_up', { gateway: 'gw1' })).toBe(1);
    expect(sampleValue(fromSecond, 'sipdr_gateway_up', { gateway: 'gw1' })).toBe(0);
    expect(fromFirst.get('sipdr_bindings')?.samples).toEqual([]);
    expect(sampleValue(fromSecond, 'sipdr_bindings')).toBe(5);
  });

  it('exposes the Node process metrics besides', async () => {
    const metrics = new Metrics();
    // prom-client counts the CPU used since the registry was made: spend some, or a busy machine may show none yet.
    const until = performance.now() + 20;
    while (performance.now() < until) {
      // busy
    }
    const families = await scrape(metrics);
    expect(families.get('process_cpu_user_seconds_total')?.type).toBe('counter');
    expect(sampleValue(families, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sampleValue(families, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(1_000_000);
  });

  it('describes exactly the sipdr_ families it exposes: type, help and the labels their samples carry', async () => {
    const metrics = new Metrics();
    metrics.gatewayState('gw1', 'active');
    metrics.gatewayStateChanged('gw1', 'active');
    metrics.probeRtt('gw1', 0.01);
    metrics.probeFailed('gw1', 'timeout');
    metrics.failover('gw1');
    metrics.sipResponse('INVITE', 200);
    metrics.countBindingsWith(async () => 1);
    metrics.drachtioStarted('127.0.0.1:9022');
    metrics.buildInfo({ version: '0.1.0', node: 'v20.0.0', engine: 'native' });
    const exposed = [...(await scrape(metrics)).values()].filter((family) => family.name.startsWith('sipdr_'));
    const described = metrics.describe();
    expect(described.map((metric) => metric.name)).toEqual(exposed.map((family) => family.name));
    for (const family of exposed) {
      const metric = described.find((each) => each.name === family.name);
      expect({ name: family.name, type: family.type, help: family.help }).toEqual({
        name: metric?.name,
        type: metric?.type,
        help: metric?.help,
      });
      expect(family.samples.length).toBeGreaterThan(0);
      for (const sample of family.samples) {
        expect(
          Object.keys(sample.labels)
            .filter((label) => label !== 'le')
            .sort(),
        ).toEqual([...(metric?.labels ?? [])].sort());
      }
    }
    expect(described).toHaveLength(28);
  });

  it('says what runs in sipdr_build_info: one series, value 1, its labels the version, Node.js and engine', async () => {
    const metrics = new Metrics();
    expect((await scrape(metrics)).get('sipdr_build_info')?.samples ?? []).toEqual([]);
    metrics.buildInfo({ version: '1.2.3', node: 'v20.11.1', engine: 'drachtio' });
    expect((await scrape(metrics)).get('sipdr_build_info')?.samples).toEqual([
      { name: 'sipdr_build_info', labels: { version: '1.2.3', node: 'v20.11.1', engine: 'drachtio' }, value: 1 },
    ]);
  });

  it('shows the leader role: 0 at start, 1 while leader, each change counted by the role entered', async () => {
    const metrics = new Metrics();
    const role = (families: ReadonlyMap<string, MetricFamily>) => [
      sampleValue(families, 'sipdr_ha_leader', {}),
      sampleValue(families, 'sipdr_ha_leader_changes_total', { role: 'leader' }),
      sampleValue(families, 'sipdr_ha_leader_changes_total', { role: 'standby' }),
    ];
    expect(role(await scrape(metrics))).toEqual([0, 0, 0]);
    metrics.leaderRole(true);
    expect(role(await scrape(metrics))).toEqual([1, 1, 0]);
    metrics.leaderRole(false);
    metrics.leaderRole(true);
    expect(role(await scrape(metrics))).toEqual([1, 2, 1]);
  });

  it('follows the drachtio connection: connected at start, each loss and return counted, nothing on the native engine', async () => {
    const server = '127.0.0.1:9022';
    const metrics = new Metrics();
    const connection = (families: ReadonlyMap<string, MetricFamily>) =>
      ['connected', 'disconnections_total', 'reconnections_total'].map((name) =>
        sampleValue(families, `sipdr_drachtio_${name}`, { server }),
      );
    expect(
      [...(await scrape(metrics)).values()]
        .filter((family) => family.name.startsWith('sipdr_drachtio_'))
        .flatMap((family) => family.samples),
    ).toEqual([]);
    metrics.drachtioStarted(server);
    let families = await scrape(metrics);
    expect(families.get('sipdr_drachtio_connected')?.type).toBe('gauge');
    expect(families.get('sipdr_drachtio_disconnections_total')?.type).toBe('counter');
    expect(connection(families)).toEqual([1, 0, 0]);
    metrics.drachtioLost(server);
    families = await scrape(metrics);
    expect(connection(families)).toEqual([0, 1, 0]);
    metrics.drachtioReconnected(server);
    metrics.drachtioLost(server);
    metrics.drachtioReconnected(server);
    families = await scrape(metrics);
    expect(connection(families)).toEqual([1, 2, 2]);
  });
});

describe('the exposition parser these tests rely on', () => {
  it('reads help, types, labels with escapes, histogram parts, special values and timestamps', () => {
    const families = parseExposition(
      [
        '# HELP a_total Counts \\\\ things\\nover lines.',
        '# TYPE a_total counter',
        'a_total{path="C:\\\\x",quote="say \\"hi\\"",nl="1\\n2"} 3 1700000000000',
        '',
        '# TYPE h histogram',
        'h_bucket{g="x",le="0.5"} 1',
        'h_bucket{g="x",le="+Inf"} 2',
        'h_sum{g="x"} 1.5e0',
        'h_count{g="x"} 2',
        '# a plain comment',
        'loose Nan',
        'neg -Inf',
      ].join('\n') + '\n',
    );
    expect(families.get('a_total')).toEqual({
      name: 'a_total',
      type: 'counter',
      help: 'Counts \\ things\nover lines.',
      samples: [
        {
          name: 'a_total',
          labels: { path: 'C:\\x', quote: 'say "hi"', nl: '1\n2' },
          value: 3,
          timestampMs: 1_700_000_000_000,
        },
      ],
    });
    expect(families.get('h')?.samples.map((sample) => [sample.name, sample.value])).toEqual([
      ['h_bucket', 1],
      ['h_bucket', 2],
      ['h_sum', 1.5],
      ['h_count', 2],
    ]);
    expect(families.get('loose')).toMatchObject({ type: 'untyped', samples: [{ value: NaN }] });
    expect(sampleValue(families, 'neg')).toBe(-Infinity);
  });

  it.each([
    ['no final line feed', 'a 1', 1, 'does not end with a line feed'],
    ['a value that is not a number', 'a abc\n', 1, 'invalid value'],
    ['no value', 'a\n', 1, 'expected a blank before the value'],
    ['text after the timestamp', 'a 1 2 3\n', 1, 'unexpected text'],
    ['a timestamp that is not an integer', 'a 1 2.5\n', 1, 'invalid timestamp'],
    ['an unterminated label value', 'a{b="c} 1\n', 1, 'unterminated label value'],
    ['an unknown escape', 'a{b="\\t"} 1\n', 1, 'invalid escape'],
    ['an unquoted label value', 'a{b=c} 1\n', 1, 'expected " to open'],
    ['a label given twice', 'a{b="1",b="2"} 1\n', 1, 'label b given twice'],
    ['a bad metric name', '1a 1\n', 1, 'must start with a metric name'],
    ['an unknown type', '# TYPE a countr\n', 1, 'unknown type'],
    ['TYPE after samples', 'a 1\n# TYPE a gauge\n', 2, 'after its samples'],
    ['two HELP lines', '# HELP a x\n# HELP a y\n', 2, 'a second HELP'],
    ['two TYPE lines', '# TYPE a untyped\n# TYPE a untyped\n', 2, 'a second TYPE'],
    ['the same series twice', 'a{b="1"} 1\na{b="1"} 2\n', 2, 'the same series appears twice'],
    ['a family split in two', 'a 1\nb 1\na{c="1"} 1\n', 3, 'appears again'],
    ['a histogram part after another family', '# TYPE h histogram\nh_count 1\nb 1\nh_sum 1\n', 4, 'appears again'],
    ['a bucket without le', '# TYPE h histogram\nh_bucket{g="x"} 1\n', 2, 'needs an le label'],
    ['a histogram sample without suffix', '# TYPE h histogram\nh 1\n', 2, 'without _bucket'],
  ])('fails loudly on %s', (_case, text, lineNumber, problem) => {
    expect(() => parseExposition(text)).toThrow(ExpositionError);
    expect(() => parseExposition(text)).toThrow(new RegExp(`^exposition line ${lineNumber}: .*${problem}`));
  });
});
