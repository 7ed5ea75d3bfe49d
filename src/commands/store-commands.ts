import type { Config } from '../config/schema.js';
import { plural } from '../core/plural.js';
import { migrateStore, seedStore } from '../store/knex/open-store.js';

/** `drouter migrate`: create the tables that are missing (the only command that adds tables to an operator's database). */
export async function migrateCommand(config: Readonly<Config>): Promise<void> {
  const { displayUrl, created } = await migrateStore(config.store.url);
  console.log(
    `schema of ${displayUrl} is up to date${created.length > 0 ? ` (tables created: ${created.join(', ')})` : ''}`,
  );
}

/** `drouter seed`: the example data into empty tables. */
export async function seedCommand(config: Readonly<Config>): Promise<void> {
  const summary = await seedStore(config.store.url);
  console.log(
    `example data loaded: ${plural(summary.gateways, 'gateway')}, ${plural(summary.gwLists, 'gateway list')}, ${plural(summary.rules, 'rule')}, ${plural(summary.groups, 'group')}, ${plural(summary.peers, 'peer')}`,
  );
}
