import { type Aggregator, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricsSnapshot } from './cluster-metrics.js';

export interface MetricDescription {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  labels: string[];
  help: string;
}

/** A metric as metric-definitions.ts defines it. */
export interface MetricDefinition<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
}

export interface GaugeDefinition<L extends string> extends MetricDefinition<L> {
  aggregator?: Aggregator;
}

export interface HistogramDefinition<L extends string> extends MetricDefinition<L> {
  buckets: number[];
}

/**
 * A Prometheus registry that keeps a description of each metric it makes.
 * Each instance owns its registry, so two servers in one process (as in the
 * tests) never share or collide on series.
 */
export class MetricRegistry {
  protected readonly registry = new Registry();
  private readonly descriptions: MetricDescription[] = [];

  /** Every series with its aggregation across workers, for the cluster's primary to combine (cluster-metrics.ts). */
  snapshot(): Promise<MetricsSnapshot> {
    return this.registry.getMetricsAsJSON();
  }

  /** The exposition text and its content type, for GET /metrics. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  /** Name, type, label names and help of every sipdr_* metric, in the order they are exposed. */
  describe(): MetricDescription[] {
    return this.descriptions.map((description) => ({ ...description, labels: [...description.labels] }));
  }

  protected counter<L extends string>({ name, help, labelNames }: MetricDefinition<L>): Counter<L> {
    this.descriptions.push({ name, type: 'counter', labels: [...labelNames], help });
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** `aggregator`: how the cluster's primary combines the workers' values (prom-client sums by default). */
  protected gauge<L extends string>(
    { name, help, labelNames, aggregator = 'sum' }: GaugeDefinition<L>,
    collect?: () => Promise<void>,
  ): Gauge<L> {
    this.descriptions.push({ name, type: 'gauge', labels: [...labelNames], help });
    return new Gauge({ name, help, labelNames, registers: [this.registry], collect, aggregator });
  }

  protected histogram<L extends string>({ name, help, labelNames, buckets }: HistogramDefinition<L>): Histogram<L> {
    this.descriptions.push({ name, type: 'histogram', labels: [...labelNames], help });
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }
}
