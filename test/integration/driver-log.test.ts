import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type KnexHandle, openKnex } from '../../src/store/knex/connect.js';
import { captureLog, type CapturedLog } from '../support/log-capture.js';

/** The pino levels of the lines (pino's numbers). */
const WARN = 40;
const ERROR = 50;
const DEBUG = 20;

/** knex's own logger, as knex calls it (knex types its client `any`). */
interface KnexLogger {
  warn(message: unknown): void;
  error(message: unknown): void;
  deprecate(method: string, alternative: string): void;
  debug(message: unknown): void;
}

const knexLogger = (knex: Knex) => (knex.client as { logger: KnexLogger }).logger;

/** What went to the terminal past our logger: stdout, stderr, console and Node's warning channel. */
function watchTerminal(): { written: () => string[]; stop: () => void } {
  const spies = [
    vi.spyOn(process.stdout, 'write'),
    vi.spyOn(process.stderr, 'write'),
    vi.spyOn(console, 'log'),
    vi.spyOn(console, 'warn'),
    vi.spyOn(console, 'error'),
  ];
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
  process.on('warning', onWarning);
  return {
    written: () => [...spies.flatMap((spy) => spy.mock.calls.map((call) => String(call[0]))), ...warnings],
    stop: () => {
      process.off('warning', onWarning);
      for (const spy of spies) spy.mockRestore();
    },
  };
}

describe("knex's own messages go to our JSON log (SQLite, better-sqlite3)", () => {
  let dir: string;
  let captured: CapturedLog;
  let handle: KnexHandle;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'drouter-driver-log-'));
    captured = captureLog();
    handle = await openKnex(`sqlite:${join(dir, 'store.db')}`, captured.log);
    await handle.knex.raw('CREATE TABLE numbers (n INTEGER)');
    await handle.knex('numbers').insert([{ n: 1 }, { n: 2 }]);
  });
  afterEach(async () => {
    await handle?.knex.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a warning knex gives on a real query is a warn line of ours, and nothing of it reaches the terminal', async () => {
    const terminal = watchTerminal();
    let rows: unknown;
    try {
      // knex warns and leaves the limit out: a real query on the real driver, run to the end.
      rows = await handle
        .knex('numbers')
        .select('n')
        .orderBy('n')
        .limit('two' as unknown as number);
      // Node prints emitted warnings on the next tick: give it one.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      terminal.stop();
    }
    expect(rows).toEqual([{ n: 1 }, { n: 2 }]);
    expect(captured.lines).toContainEqual(
      expect.objectContaining({ level: WARN, msg: 'database driver: A valid integer must be provided to limit' }),
    );
    expect(terminal.written()).toEqual([]);
  });

  it.each([
    ['warn', WARN, 'database driver: the pool is tired', (knex: Knex) => knexLogger(knex).warn('the pool is tired')],
    [
      'error',
      ERROR,
      'database driver: Debug: frobnicate does not exist',
      (knex: Knex) => knexLogger(knex).error('Debug: frobnicate does not exist'),
    ],
    [
      'deprecate',
      WARN,
      'database driver deprecation: json(true) is deprecated, please use jsonb()',
      (knex: Knex) => knexLogger(knex).deprecate('json(true)', 'jsonb()'),
    ],
    [
      'debug',
      DEBUG,
      "database driver: { sql: 'select 1', bindings: [] }",
      (knex: Knex) => knexLogger(knex).debug({ sql: 'select 1', bindings: [] }),
    ],
  ])("knex's logger.%s is a line of ours at level %i: %s", async (_name, level, msg, say) => {
    const terminal = watchTerminal();
    try {
      say(handle.knex);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      terminal.stop();
    }
    expect(captured.lines).toContainEqual(expect.objectContaining({ level, msg }));
    expect(terminal.written()).toEqual([]);
  });
});
