import Database from 'better-sqlite3';
import { prepareStore } from '../src/store/knex/open-store.js';

/**
 * Writes a routing data set of `count` rules into a fresh SQLite file:
 * 10 gateways, 2 carriers, rules with scattered 8-digit prefixes (random,
 * like a carrier's rate deck) or dense ones (every prefix of a block,
 * like a number plan), a fifth of them with a timerec.
 */

export type PrefixShape = 'scattered' | 'dense';

/** Small, fast, seeded: the same data set on every run. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

export function prefixesOf(shape: PrefixShape, count: number, seed = 7): string[] {
  if (shape === 'dense') {
    // All 6-digit prefixes of one block, then 7-digit ones: a full number plan.
    const digits = count <= 1_000_000 ? 6 : 7;
    return Array.from({ length: count }, (_, i) => `4${String(i).padStart(digits, '0')}`);
  }
  const random = lcg(seed);
  const seen = new Set<string>();
  while (seen.size < count) seen.add(String(Math.floor(random() * 1e8)).padStart(8, '0'));
  return [...seen];
}

/** A fresh SQLite file with the proxy's empty tables, open for the bulk inserts of a data set. */
export async function openEmptyStore(file: string): Promise<Database.Database> {
  const { store } = await prepareStore(`sqlite:${file}`, { seedExample: false });
  await store.close();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  return db;
}

export async function generateRules(file: string, shape: PrefixShape, count: number): Promise<void> {
  const db = await openEmptyStore(file);
  const insertGateway = db.prepare('INSERT INTO dr_gateways (gwid, address, probe_mode) VALUES (?, ?, 2)');
  const insertCarrier = db.prepare('INSERT INTO dr_carriers (carrierid, gwlist, sort_alg) VALUES (?, ?, ?)');
  const insertRule = db.prepare(
    'INSERT INTO dr_rules (groupid, prefix, timerec, priority, gwlist, sort_alg) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const lists = ['gw1,gw2', 'gw3=5,gw4=5', '#c1', 'gw5,#c2', 'gw6,gw7,gw8'];
  const random = lcg(11);
  db.transaction(() => {
    for (let i = 1; i <= 10; i++) insertGateway.run(`gw${i}`, `127.0.0.${i + 1}:5060`);
    insertCarrier.run('c1', 'gw9,gw10', 'N');
    insertCarrier.run('c2', 'gw1=1,gw9=3', 'W');
    for (const prefix of prefixesOf(shape, count)) {
      const timed = random() < 0.2;
      const list = lists[Math.floor(random() * lists.length)] ?? 'gw1';
      insertRule.run(
        '0',
        prefix,
        timed ? '20200101T080000||10H|weekly|||MO,TU,WE,TH,FR' : null,
        Math.floor(random() * 3),
        list,
        list.includes('=') ? 'W' : 'N',
      );
    }
    insertRule.run('0', '', null, 0, 'gw1', 'N');
  })();
  db.close();
}
