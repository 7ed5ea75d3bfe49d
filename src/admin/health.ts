import { errorMessage, formatRowProblem } from '../errors.js';
import { UNPARTITIONED } from '../routing/core/partitions.js';
import { listeningText } from '../sip/core/endpoint.js';
import type { AdminDeps, AdminReply } from './admin-contract.js';

/**
 * GET /health: 200 while the store, the cache and the SIP engine serve,
 * 503 otherwise (the process keeps running), with the routing snapshot and
 * this process's role in the pair beside.
 */
export async function health(deps: AdminDeps): Promise<AdminReply> {
  const snapshot = deps.routing.current;
  const routing = {
    generation: snapshot.generation,
    loadedAt: snapshot.loadedAt.toISOString(),
    ...snapshot.counts,
    // dr_partitions (routing.partitions): their names; none without.
    partitions: [...snapshot.tables.keys()].filter((name) => name !== UNPARTITIONED),
    // Rows OpenSIPS would skip too: the node serves without them, so still 200.
    skipped: snapshot.skipped.length,
    skippedRows: snapshot.skipped.map(formatRowProblem),
    warnings: snapshot.warnings.map(formatRowProblem),
  };
  // The drachtio engine cannot carry SIP while its drachtio-server is unreachable: the node is then not healthy.
  const engineHealth = deps.engine.health?.();
  const sip = {
    ok: engineHealth?.ok ?? true,
    engine: deps.engineName,
    listening: listeningText(deps.engine.local),
    ...(engineHealth ? { detail: engineHealth.detail } : {}),
    ...deps.engine.stats(),
  };
  const [store, cache, ha] = await Promise.all([
    check(deps.store.displayUrl, () => deps.store.ping()),
    check(deps.cache.displayUrl, () => deps.cache.ping()),
    deps.leadership.status(),
  ]);
  const healthy = store.ok && cache.ok && sip.ok;
  return { status: healthy ? 200 : 503, body: { status: healthy ? 'ok' : 'degraded', store, cache, sip, routing, ha } };
}

async function check(url: string, ping: () => Promise<void>): Promise<{ ok: boolean; url: string; error?: string }> {
  try {
    await ping();
    return { ok: true, url };
  } catch (error) {
    return { ok: false, url, error: errorMessage(error) };
  }
}
