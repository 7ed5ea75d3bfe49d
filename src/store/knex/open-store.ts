import type { Logger } from '../../log.js';
import { drGatewaysTable } from '../../model/drouting-tables.js';
import { openKnex } from './connect.js';
import { KnexStore } from './knex-store.js';
import { migrateToLatest } from './migrations.js';
import type { SeedSummary } from './seed.js';

export interface PreparedStore {
  store: KnexStore;
  /** True when this call created the drouting tables (a first start). */
  schemaCreated: boolean;
  /** Present when the example data was loaded by this call. */
  seeded?: SeedSummary;
}

/**
 * Opens the store, creates the schema where it is missing and, on a first
 * start with `seedExample`, loads the example data. With `log`, the database
 * driver's own warnings are lines of that log (else Node warnings on stderr).
 */
export async function prepareStore(url: string, options: { seedExample: boolean; log?: Logger }): Promise<PreparedStore> {
  const handle = await openKnex(url, options.log);
  try {
    const schemaCreated = !(await handle.knex.schema.hasTable(drGatewaysTable.name));
    await migrateToLatest(handle.knex, handle.dialect);
    const store = new KnexStore(handle);
    const seeded = schemaCreated && options.seedExample ? await store.seedExample() : undefined;
    return { store, schemaCreated, ...(seeded ? { seeded } : {}) };
  } catch (error) {
    await handle.knex.destroy();
    throw error;
  }
}

/** `drouter seed`: schema if missing, then the example data into empty tables. */
export async function seedStore(url: string): Promise<SeedSummary> {
  const { store } = await prepareStore(url, { seedExample: false });
  try {
    return await store.seedExample();
  } finally {
    await store.close();
  }
}

/** Opens an existing store for reading (the CLI's route and check): no schema changes. */
export async function openStore(url: string): Promise<KnexStore> {
  return new KnexStore(await openKnex(url));
}
