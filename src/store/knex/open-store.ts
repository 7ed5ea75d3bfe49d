import type { Logger } from '../../log.js';
import { drGatewaysTable } from '../../core/model/drouting-tables.js';
import { ALL_TABLES } from '../../core/model/tables.js';
import { type KnexHandle, openKnex } from './connect.js';
import { KnexStore } from './knex-store.js';
import { migrateToLatest, MIGRATIONS_TABLE } from './migrations.js';
import { readPresentTables } from './present-tables.js';
import type { SeedSummary } from './seed.js';

export interface PreparedStore {
  store: KnexStore;
  /** True when this call created the drouting tables (a first start). */
  schemaCreated: boolean;
  /** Present when the example data was loaded by this call. */
  seeded?: SeedSummary;
}

/**
 * Opens the store for `drouter start`. A new database (none of the tables
 * sip-drouter reads) gets the schema and, with `seedExample`, the example
 * data; a database whose schema sip-drouter manages (drouter_migrations,
 * left by an earlier start or `drouter migrate`) gets the migrations it
 * lacks. An operator's database (their tables, no drouter_migrations) is
 * used as it is: nothing is created or altered, and the optional tables it
 * lacks are read as empty. Then the layout is read: tables that cannot be
 * read throw SchemaError here, before anything starts. With `log`, the
 * database driver's own warnings are lines of that log.
 */
export async function prepareStore(
  url: string,
  options: { seedExample: boolean; log?: Logger },
): Promise<PreparedStore> {
  const handle = await openKnex(url, options.log);
  try {
    const present = await presentTables(handle);
    const operators = !present.has(MIGRATIONS_TABLE) && ALL_TABLES.some((table) => present.has(table.name));
    const schemaCreated = !operators && !present.has(drGatewaysTable.name);
    if (!operators) await migrateToLatest(handle.knex, handle.dialect);
    const store = new KnexStore(handle);
    await store.readLayout();
    const seeded = schemaCreated && options.seedExample ? await store.seedExample() : undefined;
    return { store, schemaCreated, ...(seeded ? { seeded } : {}) };
  } catch (error) {
    await handle.knex.destroy();
    throw error;
  }
}

/**
 * `drouter migrate`: every table sip-drouter reads that the database lacks,
 * created (existing ones are left as they are); returns their names. Then
 * the layout is read, so tables that still cannot be read throw SchemaError.
 */
export async function migrateStore(url: string): Promise<{ displayUrl: string; created: string[] }> {
  const handle = await openKnex(url);
  const store = new KnexStore(handle);
  try {
    const before = await presentTables(handle);
    await migrateToLatest(handle.knex, handle.dialect);
    await store.readLayout();
    return {
      displayUrl: handle.displayUrl,
      created: ALL_TABLES.map((table) => table.name).filter((name) => !before.has(name)),
    };
  } finally {
    await store.close();
  }
}

/** `drouter seed`: the schema on a new database (as a start makes it), then the example data into empty tables. */
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

/** Which of the tables sip-drouter knows (its own bookkeeping included) the database has. */
async function presentTables(handle: KnexHandle): Promise<ReadonlySet<string>> {
  const present = await readPresentTables(handle.knex, handle.dialect, [
    ...ALL_TABLES.map((table) => table.name),
    MIGRATIONS_TABLE,
  ]);
  return new Set(present.keys());
}
