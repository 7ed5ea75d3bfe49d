import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../../src/config/schema.js';
import { createLogger, type Logger } from '../../src/log.js';
import { type RunningServer, startServer } from '../../src/main.js';
import { freePort } from './drouter-process.js';
import { execSql } from './sqlite-file.js';

/** The engine the behaviour suites run on: DROUTER_TEST_ENGINE, `native` by default. */
export const testEngine: 'native' | 'drachtio' = engineUnderTest(process.env.DROUTER_TEST_ENGINE);

/**
 * What drachtio-server may send the caller when gateway 1 answered 503 and gateway 2 500: its own pick of
 * the finals (docs/engines.md "Where it differs" 2, forwardBestResponse), either of the two, where the native
 * engine answers its own 503. Its order (bestResponseOrder, sip-proxy-controller.cpp:103) ranks two 5xx
 * alike, so std::sort leaves either first.
 */
export const DRACHTIO_PICKS_OF_503_AND_500 = [503, 500];

function engineUnderTest(value: string | undefined): 'native' | 'drachtio' {
  if (value === undefined || value === '' || value === 'native') return 'native';
  if (value === 'drachtio') return 'drachtio';
  throw new Error(`DROUTER_TEST_ENGINE=${value}: expected native or drachtio`);
}

/**
 * The drachtio-server the drachtio runs use: DROUTER_TEST_DRACHTIO_SERVER=host:port:secret
 * (its <admin> element), given by hand or set by the global setup, which starts
 * one from DROUTER_TEST_DRACHTIO_BINARY (test/support/drachtio-global-setup.ts).
 * Unreachable makes startTestServer fail, never skip.
 */
export function drachtioUnderTest(): { host: string; port: number; secret: string } {
  const value = process.env.DROUTER_TEST_DRACHTIO_SERVER ?? '';
  const match = /^([^:]+):(\d+):(.+)$/.exec(value);
  if (!match)
    throw new Error(
      `DROUTER_TEST_ENGINE=drachtio needs DROUTER_TEST_DRACHTIO_SERVER=host:port:secret naming a running drachtio-server, or DROUTER_TEST_DRACHTIO_BINARY to start one (got ${JSON.stringify(value)})`,
    );
  return { host: match[1] ?? '', port: Number(match[2]), secret: match[3] ?? '' };
}

/**
 * The environment that puts a `drouter start` child on the engine under test:
 * nothing for native; for drachtio, the engine and DROUTER_TEST_DRACHTIO_SERVER's server.
 */
export function engineEnv(): Record<string, string> {
  if (testEngine !== 'drachtio') return {};
  const { host, port, secret } = drachtioUnderTest();
  return {
    DROUTER_SIP__ENGINE: 'drachtio',
    DROUTER_SIP__DRACHTIO__HOST: host,
    DROUTER_SIP__DRACHTIO__PORT: String(port),
    DROUTER_SIP__DRACHTIO__SECRET: secret,
  };
}

/** Where the behaviour suites' phones are: trusted as an SBC would be (see startTestServer). */
export const TRUSTED_TEST_SOURCES = '127.0.0.0/8';

/**
 * Moves the example data's gateways 1 and 2 (127.0.0.2/3 as seeded) to
 * addresses of the test's own, and reloads: no test binds 127.0.0.2:5060 or
 * 127.0.0.3:5060, which an `npm start` beside the tests probes and something
 * else may hold (test files also run in parallel). An address is given as
 * the dr_gateways column takes it (`127.0.0.22:5061;transport=tls`), or bare
 * for port 5060.
 */
export async function moveExampleGateways(server: TestServer, gateway1: string, gateway2: string): Promise<void> {
  const column = (address: string) => (address.includes(':') ? address : `${address}:5060`);
  execSql(
    server.storeFile,
    `UPDATE dr_gateways SET address = '${column(gateway1)}' WHERE gwid = '1'; UPDATE dr_gateways SET address = '${column(gateway2)}' WHERE gwid = '2'`,
  );
  const report = await server.server.reload();
  if (!report.ok)
    throw new Error(
      `the example data did not reload with gateways on ${gateway1} and ${gateway2}: ${JSON.stringify(report.errors)}`,
    );
}

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
 * The engine is native unless DROUTER_TEST_ENGINE names drachtio: then SIP
 * is the drachtio-server's contact (`sip` says where to send), whatever
 * `address` says, and the tests must not run in parallel against one
 * drachtio-server (it shares requests among the apps connected to it).
 * Probing is off unless the overrides turn it on. The phones of the behaviour
 * suites stand behind a trusted source (auth.trustedSources 127.0.0.0/8, as
 * behind an SBC), unless the overrides give an `auth` of their own
 * (caller-authentication.test.ts challenges its callers). `log` replaces the silent
 * logger when a test reads the log lines. `sipPort` fixes the native
 * engine's port (a restart on the same address and port).
 */
export async function startTestServer(
  address: string,
  overrides: Record<string, unknown> = {},
  log?: Logger,
  sipPort?: number,
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'drouter-sip-'));
  const port = sipPort ?? (await freePort());
  const drachtio = testEngine === 'drachtio' ? drachtioUnderTest() : undefined;
  // A `sip` in the overrides adds to the address, port and engine chosen here.
  const { sip, ...rest } = overrides;
  const config = configSchema.parse({
    sip: { address, port, engine: testEngine, ...(drachtio ? { drachtio } : {}), ...(sip as object | undefined) },
    admin: { port: await freePort() },
    store: { url: `sqlite:${join(dir, 'drouter.db')}` },
    log: { level: 'silent' },
    // Probes of the example gateways (127.0.0.2/3) would mark them down under tests that do not run them.
    probe: { enabled: false },
    auth: { trustedSources: [TRUSTED_TEST_SOURCES] },
    // This process runs the tests' phones and gateways on the same event loop, on a shared machine: its
    // stalls are the harness's, not an overload of the proxy. The shedding tests turn it on.
    overload: { enabled: false },
    ...rest,
  });
  const server = await startServer(config, log ?? createLogger(config.log.level));
  return {
    server,
    // The drachtio engine learns its address from drachtio-server's contacts at connection.
    sip: { address: server.engine.local.address, port: server.engine.local.port },
    storeFile: join(dir, 'drouter.db'),
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
