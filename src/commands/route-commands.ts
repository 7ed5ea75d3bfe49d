import type { Config } from '../config/schema.js';
import { DrouterError } from '../errors.js';
import { createRoutingService } from '../main.js';
import { decisionJson, decisionText, problemsText } from '../routing/format-decision.js';
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

class UsageError extends DrouterError {
  constructor(message: string) {
    super('DROUTER_ERR_USAGE', message);
  }
}

function parseCaller(from: string): { user: string; domain: string } {
  const [user, domain = ''] = from.replace(/^sips?:/, '').split('@');
  if (!user) throw new UsageError(`--from ${JSON.stringify(from)}: expected user@domain`);
  return { user, domain };
}

function parseInstant(at: string): Date {
  const instant = new Date(at);
  if (Number.isNaN(instant.getTime())) throw new UsageError(`--at ${JSON.stringify(at)}: expected an ISO-8601 time such as 2026-11-26T09:30:00Z`);
  return instant;
}

function parseGroup(group: string): number {
  if (!/^\d+$/.test(group)) throw new UsageError(`--group ${JSON.stringify(group)}: expected a group number`);
  return Number(group);
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
  const caller = options.from === undefined ? undefined : parseCaller(options.from);
  const group = options.group === undefined ? undefined : parseGroup(options.group);
  const at = options.at === undefined ? new Date() : parseInstant(options.at);
  await withRouting(config, async (routing) => {
    await routing.load();
    const decision = routing.route({
      number,
      caller,
      group,
      at,
      whitelist: options.whitelist === undefined ? undefined : new Set(options.whitelist.split(',').map((id) => id.trim())),
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
