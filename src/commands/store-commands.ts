import type { Config } from '../config/schema.js';
import { prepareStore, seedStore } from '../store/knex/open-store.js';

/** `drouter migrate`: create the tables that are missing. */
export async function migrateCommand(config: Readonly<Config>): Promise<void> {
  const { store, schemaCreated } = await prepareStore(config.store.url, { seedExample: false });
  await store.close();
  console.log(`schema of ${store.displayUrl} is up to date${schemaCreated ? ' (tables created)' : ''}`);
}

/** `drouter seed`: the example data into empty tables. */
export async function seedCommand(config: Readonly<Config>): Promise<void> {
  const summary = await seedStore(config.store.url);
  console.log(
    `example data loaded: ${summary.gateways} gateways, ${summary.gwLists} gateway list, ${summary.rules} rules, ${summary.groups} groups, ${summary.peers} peers`,
  );
}
