import type { Config } from '../config/schema.js';
import { createRoutingService } from '../main.js';
import { decisionJson, decisionText, problemsText } from '../routing/format-decision.js';
import { parseRouteQuery } from '../routing/route-query.js';
import { openStore } from '../store/knex/open-store.js';

export interface RouteOptions {
  from?: string;
  group?: string;
  at?: string;
  json?: boolean;
  strict?: boolean;
  fallback?: boolean;
  whitelist?: string;
}

async function withRouting<T>(config: Readonly<Config>, action: (routing: ReturnType<typeof createRoutingService>) => Promise<T>): Promise<T> {
  const store = await openStore(config.store.url);
  try {
    return await action(createRoutingService(config, store));
  } finally {
    await store.close();
  }
}

/** `drouter route NUMBER`: where the number goes, and why. */
export async function routeCommand(config: Readonly<Config>, number: string, options: RouteOptions): Promise<void> {
  const query = parseRouteQuery(options);
  const at = query.at ?? new Date();
  await withRouting(config, async (routing) => {
    await routing.load();
    const decision = routing.route({
      number,
      caller: query.caller,
      group: query.group,
      at,
      whitelist: query.whitelist,
      ...(options.strict ? { strictLength: true } : {}),
      ...(options.fallback ? { ruleFallback: true } : {}),
    });
    console.log(options.json ? JSON.stringify(decisionJson(decision), null, 2) : decisionText(decision, at));
  });
}

/** `drouter check`: every error and warning of the routing data; exit 1 on errors. */
export async function checkCommand(config: Readonly<Config>): Promise<number> {
  return withRouting(config, async (routing) => {
    const report = await routing.reload();
    const text = problemsText(report.errors, report.warnings);
    if (text) console.log(text);
    const verdict = report.ok ? 'routing data builds' : 'routing data does not build';
    console.log(`${verdict}: ${report.errors.length} errors, ${report.warnings.length} warnings (${report.counts.gateways} gateways, ${report.counts.carriers} carriers, ${report.counts.rules} rules)`);
    return report.ok ? 0 : 1;
  });
}
