import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../../src/config/schema.js';
import { createLogger, type Logger } from '../../src/log.js';
import { type RunningServer, startServer } from '../../src/main.js';
import { freePort } from './drouter-process.js';

export interface TestServer {
  server: RunningServer;
  sip: { address: string; port: number };
  /** The SQLite file behind it, for a test to change the data (then server.reload()). */
  storeFile: string;
  close(): Promise<void>;
}

/**
 * The whole product in this process, on a fresh SQLite file with the
 * example data, SIP on `address` (a 127.0.0.N of its own) and a free port.
 * The engine is the configured default unless DROUTER_TEST_ENGINE names one.
 * Probing is off unless the overrides turn it on. `log` replaces the silent
 * logger when a test reads the log lines.
 */
export async function startTestServer(address: string, overrides: Record<string, unknown> = {}, log?: Logger): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'drouter-sip-'));
  const port = await freePort();
  const config = configSchema.parse({
    sip: { address, port, engine: process.env.DROUTER_TEST_ENGINE ?? 'native' },
    admin: { port: await freePort() },
    store: { url: `sqlite:${join(dir, 'drouter.db')}` },
    log: { level: 'silent' },
    // Probes of the example gateways (127.0.0.2/3) would mark them down under tests that do not run them.
    probe: { enabled: false },
    ...overrides,
  });
  const server = await startServer(config, log ?? createLogger(config.log.level));
  return {
    server,
    sip: { address, port },
    storeFile: join(dir, 'drouter.db'),
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
