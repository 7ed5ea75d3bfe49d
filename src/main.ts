import { type AdminServer, startAdminServer } from './admin/admin-server.js';
import type { Config } from './config/schema.js';
import { describeLoad, type LoadSummary, summarizeLoad } from './load-summary.js';
import type { Logger } from './log.js';
import { prepareStore } from './store/knex/open-store.js';
import type { Store } from './store/store.js';

/**
 * The composition root: picks the implementations the configuration names
 * and wires them. Nothing else in the program opens sockets or databases.
 */

export interface RunningServer {
  readonly adminUrl: string;
  stop(): Promise<void>;
}

export async function startServer(config: Readonly<Config>, log: Logger): Promise<RunningServer> {
  const prepared = await prepareStore(config.store.url, { seedExample: config.store.seedExample });
  const { store } = prepared;
  let admin: AdminServer | undefined;
  try {
    const rows = await store.loadRoutingRows();
    const loaded = summarizeLoad(rows, await store.countPeers());
    for (const problem of loaded.rowProblems) log.warn({ problem }, `bad row value: ${problem}`);

    admin = await startAdminServer(config.admin, { health: () => healthReply(store, loaded) });

    const schemaNote = prepared.schemaCreated ? ' (schema created' + (prepared.seeded ? ', example data loaded)' : ')') : '';
    log.info(
      { store: store.displayUrl, schemaCreated: prepared.schemaCreated, seeded: prepared.seeded !== undefined, loaded, admin: admin.url },
      `drouter started: store ${store.displayUrl}${schemaNote}: ${describeLoad(loaded)}; admin ${admin.url}`,
    );
  } catch (error) {
    await admin?.close();
    await store.close();
    throw error;
  }
  const adminServer = admin;
  return {
    adminUrl: adminServer.url,
    async stop() {
      await adminServer.close();
      await store.close();
    },
  };
}

async function healthReply(store: Store, loaded: LoadSummary) {
  try {
    await store.ping();
    return { status: 200, body: { status: 'ok', store: { ok: true, url: store.displayUrl }, loaded } };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { status: 503, body: { status: 'degraded', store: { ok: false, url: store.displayUrl, error: message }, loaded } };
  }
}
