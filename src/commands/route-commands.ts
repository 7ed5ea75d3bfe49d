import { type AdminClient, AdminUnreachableError } from '../admin/admin-client.js';
import type { Config } from '../config/schema.js';
import { redactUrlPassword } from '../errors.js';
import { createRoutingService } from '../wiring/routing-wiring.js';
import { decisionText, problemsText, type RouteAnswerJson, routeAnswerJson } from '../routing/core/format-decision.js';
import { type ParsedRouteQuery, parseRouteQuery } from '../routing/core/route-query.js';
import type { KnexStore } from '../store/knex/knex-store.js';
import { openStore } from '../store/knex/open-store.js';
import { problemTally } from '../routing/core/load-summary.js';
import { plural } from '../core/plural.js';
import { routingDataOf } from '../store/knex/partition-stores.js';

export interface RouteOptions {
  from?: string;
  group?: string;
  at?: string;
  json?: boolean;
  strict?: boolean;
  fallback?: boolean;
  whitelist?: string;
  partition?: string;
}

async function withRouting<T>(
  config: Readonly<Config>,
  action: (routing: ReturnType<typeof createRoutingService>, store: KnexStore) => Promise<T>,
): Promise<T> {
  const store = await openStore(config.store.url);
  const data = routingDataOf(store, config.store.url, config.routing.partitions);
  try {
    return await action(createRoutingService(config, data.source), store);
  } finally {
    await data.close();
    await store.close();
  }
}

/**
 * `drouter route NUMBER`: where the number goes, and why. The running
 * server answers with the gateways' live states; when nothing listens at
 * its URL the answer comes from the database, with the stored states.
 */
export async function routeCommand(
  config: Readonly<Config>,
  client: AdminClient,
  number: string,
  options: RouteOptions,
): Promise<void> {
  // A bad option is reported as such before any server is asked.
  const query = parseRouteQuery(options);
  let answer: RouteAnswerJson;
  // Said in the report and the JSON: a server on the default admin port may not be the one whose store --config names.
  let source: RouteSource = { answeredBy: 'server', url: client.url };
  try {
    answer = await client.get<RouteAnswerJson>('/route', {
      number,
      from: options.from,
      group: options.group,
      at: options.at,
      whitelist: options.whitelist,
      partition: options.partition,
      strict: options.strict ? 'true' : undefined,
      fallback: options.fallback ? 'true' : undefined,
    });
  } catch (error) {
    if (!(error instanceof AdminUnreachableError && error.connectionRefused)) throw error;
    console.error(`drouter: no server at ${client.url}; routing from the database without live gateway state`);
    answer = await routeFromDatabase(config, number, query, options);
    source = { answeredBy: 'store', url: redactUrlPassword(config.store.url) };
  }
  console.log(
    options.json ? JSON.stringify({ source, ...answer }, null, 2) : `${sourceText(source)}\n${decisionText(answer)}`,
  );
}

/** Who answered `drouter route`: the running server (live gateway states) or the store (the states stored in dr_gateways.state). */
interface RouteSource {
  answeredBy: 'server' | 'store';
  /** The admin API's URL, or the store's with its password hidden. */
  url: string;
}

function sourceText(source: RouteSource): string {
  return source.answeredBy === 'server'
    ? `source   the server at ${source.url} (live gateway states)`
    : `source   the store ${source.url} (gateway states as stored; no server answered)`;
}

async function routeFromDatabase(
  config: Readonly<Config>,
  number: string,
  query: ParsedRouteQuery,
  options: RouteOptions,
): Promise<RouteAnswerJson> {
  const at = query.at ?? new Date();
  return withRouting(config, async (routing) => {
    await routing.load();
    const decision = routing.route({
      number,
      caller: query.caller,
      group: query.group,
      at,
      whitelist: query.whitelist,
      partition: query.partition,
      strictLength: options.strict,
      ruleFallback: options.fallback,
    });
    return routeAnswerJson(decision, at);
  });
}

/**
 * `drouter check [--strict]`: every error, skipped row and warning of the
 * routing data; exit 1 on errors. `--strict` checks as routing.strict does:
 * a row that would be skipped is an error.
 */
export async function checkCommand(config: Readonly<Config>, options: { strict?: boolean } = {}): Promise<number> {
  const checked = options.strict ? { ...config, routing: { ...config.routing, strict: true } } : config;
  return withRouting(checked, async (routing, store) => {
    const report = await routing.reload();
    const text = problemsText(report.errors, report.skipped, report.warnings);
    if (text) console.log(text);
    // How the tables were read: an operator's OpenSIPS 1.x or Kamailio layout, the optional tables absent.
    const layout = await store.readLayout();
    console.log([`layout   ${layout.name}`, ...layout.notes.map((note) => `note     ${note}`)].join('\n'));
    if (report.ok && config.routing.partitions.enabled)
      console.log(`partitions ${[...routing.current.tables.keys()].join(', ') || '(none in dr_partitions)'}`);
    const verdict = report.ok ? 'routing data builds' : 'routing data does not build';
    const { gateways, carriers, rules } = report.counts;
    console.log(
      `${verdict}: ${problemTally(report)} (${plural(gateways, 'gateway')}, ${plural(carriers, 'carrier')}, ${plural(rules, 'rule')})`,
    );
    return report.ok ? 0 : 1;
  });
}
