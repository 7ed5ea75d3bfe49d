import Database from 'better-sqlite3';
import { routingServiceOptions } from '../src/routing/core/routing-options.js';
import { RoutingService } from '../src/routing/routing-service.js';
import { configSchema } from '../src/config/schema.js';
import { openStore } from '../src/store/knex/open-store.js';
import { systemClock } from '../src/clock.js';

/**
 * Child process of the routing benchmark: from an empty process to a usable
 * snapshot (store read included), then a reload, then lookups. Prints one
 * JSON line. Run by bench/routing.ts; argv: <sqlite file> <lookups>.
 */

const [file = '', lookupsText = '100000'] = process.argv.slice(2);
const MB = 1024 * 1024;

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

const config = configSchema.parse({ store: { url: `sqlite:${file}` } });
const store = await openStore(config.store.url);
const routing = new RoutingService(store, routingServiceOptions(config.routing, 'UTC', config.sip), systemClock);
await routing.load();
const usableMs = performance.now();
const rssAfterLoad = process.memoryUsage().rss;

const reloadStarted = performance.now();
const report = await routing.reload();
const reloadMs = performance.now() - reloadStarted;
if (!report.ok) throw new Error('reload failed');
const peakRss = process.resourceUsage().maxRSS * 1024;
const rssAfterReload = process.memoryUsage().rss;

const { counts } = routing.current;
const db = new Database(file, { readonly: true });
const prefixes = db.prepare("SELECT prefix FROM dr_rules WHERE prefix <> ''").pluck().all() as string[];
db.close();
const lookups = Number(lookupsText);
let state = 12345;
const numbers = Array.from({ length: lookups }, () => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  const prefix = prefixes[state % prefixes.length] ?? '';
  return (prefix + String(state).padStart(10, '0')).slice(0, 12);
});
const at = new Date('2026-11-26T10:00:00Z');
// Steady state, as in a running proxy: let the JIT settle before measuring.
for (let i = 0; i < Math.min(lookups, 50000); i++)
  routing.route({ number: numbers[i] ?? '', group: 0, at, explain: false });
const durations = new Float64Array(lookups);
let routed = 0;
for (let i = 0; i < lookups; i++) {
  const started = process.hrtime.bigint();
  const decision = routing.route({ number: numbers[i] ?? '', group: 0, at, explain: false });
  durations[i] = Number(process.hrtime.bigint() - started);
  if (decision.outcome === 'routed') routed++;
}
durations.sort();
// The explained decision (drouter route, the admin API) costs more: its median, for the record.
const explained = new Float64Array(Math.min(lookups, 20000));
for (let i = 0; i < explained.length; i++) {
  const started = process.hrtime.bigint();
  routing.route({ number: numbers[i] ?? '', group: 0, at, explain: true });
  explained[i] = Number(process.hrtime.bigint() - started);
}
explained.sort();
const overhead = (() => {
  const samples = new Float64Array(10000);
  for (let i = 0; i < samples.length; i++) {
    const started = process.hrtime.bigint();
    samples[i] = Number(process.hrtime.bigint() - started);
  }
  return samples.sort()[5000] ?? 0;
})();

console.log(
  JSON.stringify({
    rules: counts.rules,
    usableMs: Math.round(usableMs),
    rssAfterLoadMB: Math.round(rssAfterLoad / MB),
    reloadMs: Math.round(reloadMs),
    peakRssMB: Math.round(peakRss / MB),
    rssAfterReloadMB: Math.round(rssAfterReload / MB),
    lookupP50us: (percentile(durations, 0.5) - overhead) / 1000,
    lookupP99us: (percentile(durations, 0.99) - overhead) / 1000,
    explainedP50us: (percentile(explained, 0.5) - overhead) / 1000,
    timerOverheadNs: overhead,
    routedShare: routed / lookups,
  }),
);
await store.close();
