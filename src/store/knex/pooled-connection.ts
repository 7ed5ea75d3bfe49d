import type { Knex } from 'knex';

/** knex's client as the pool it is (knex types it `any`): it lends one connection for several queries. */
interface ConnectionPool {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<void>;
}

export function connectionPool(knex: Knex): ConnectionPool {
  return knex.client as ConnectionPool;
}
