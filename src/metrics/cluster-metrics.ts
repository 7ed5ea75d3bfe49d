import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** One worker's metrics as data (Metrics.snapshot()), each with how workers' values combine. */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/**
 * The node's /metrics under --workers N: the workers' snapshots combined
 * by each metric's aggregator (prom-client's AggregatorRegistry): counters
 * and histograms summed, the gauges of shared state (gateway state,
 * bindings) taken from the first worker, as every worker shows the same.
 */
export async function aggregateSnapshots(
  snapshots: readonly MetricsSnapshot[],
): Promise<{ contentType: string; text: string }> {
  const registry = AggregatorRegistry.aggregate([...snapshots]);
  return { contentType: registry.contentType, text: await registry.metrics() };
}
