import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort, type RunningDrouter, runDrouter, waitForOutput } from './drouter-process.js';

/** A `drouter start --config FILE` of a guide's test: the server a reader runs, on a store and addresses of the test's own. */
export interface GuideServer {
  /** The configuration file, which the guide's commands find through DROUTER_CONFIG. */
  configFile: string;
  adminUrl: string;
  sip: { address: string; port: number };
  run: RunningDrouter;
  close(): Promise<void>;
}

/**
 * Starts the built CLI on `storeUrl` (a new database: it creates the schema
 * and loads the example data, as `npm start` does), SIP on `sipAddress` (a
 * 127.0.0.N of the test's own) and free ports. Probing is off: the example
 * gateways (127.0.0.2 and .3) answer nothing here, and the guides' outputs
 * show them active. `settings` add to or replace these (`admin` adds to the port chosen here).
 */
export async function startGuideServer(
  storeUrl: string,
  sipAddress: string,
  settings: Record<string, unknown> = {},
): Promise<GuideServer> {
  const dir = mkdtempSync(join(tmpdir(), 'drouter-guide-'));
  const configFile = join(dir, 'config.yaml');
  const sip = { address: sipAddress, port: await freePort() };
  const adminPort = await freePort();
  const { admin, ...rest } = settings;
  writeFileSync(
    configFile,
    stringify({
      sip,
      admin: { port: adminPort, ...(admin as object | undefined) },
      store: { url: storeUrl },
      probe: { enabled: false },
      ...rest,
    }),
  );
  const run = runDrouter(['start', '--config', configFile], {});
  const close = async () => {
    run.child.kill('SIGTERM');
    await run.finished;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForOutput(run, /drouter started/);
  } catch (error) {
    await close();
    throw error;
  }
  return { configFile, adminUrl: `http://127.0.0.1:${adminPort}`, sip, run, close };
}
