import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminPortOpened, drachtioConfigXml } from '../test/support/drachtio-launch.js';

/**
 * The drachtio-server of the drachtio runs: DROUTER_BENCH_DRACHTIO_BINARY
 * names the binary (it is in no package registry: docs/engines.md, "The drachtio
 * engine""); the bench writes its config file to its work folder and starts
 * one per step, as it does the proxy.
 */
export const DRACHTIO_BINARY = process.env.DROUTER_BENCH_DRACHTIO_BINARY;
export const DRACHTIO_ADMIN = { port: 19022, secret: 'bench-secret' };

/** The engines `--engine` asks for: `native` (the default), or `drachtio`, which runs native and then drachtio. */
export function enginesToRun(): ('native' | 'drachtio')[] {
  const index = process.argv.indexOf('--engine');
  const asked = index >= 0 ? process.argv[index + 1] : 'native';
  if (asked === 'native') return ['native'];
  if (asked === 'drachtio') return ['native', 'drachtio'];
  throw new Error(`--engine ${asked}: expected native or drachtio`);
}

/** Says why the drachtio runs cannot happen, or undefined when they can. */
export function drachtioMissing(): string | undefined {
  return DRACHTIO_BINARY
    ? undefined
    : 'DROUTER_BENCH_DRACHTIO_BINARY is not set (the path of a drachtio-server binary)';
}

/**
 * Starts drachtio-server with its SIP contact on `sip` (UDP only, as the
 * native runs) and its admin port on loopback, quiet (warnings only: its
 * per-message log lines would be a cost the native engine does not pay);
 * resolves once the admin port takes connections.
 */
export async function startDrachtioServer(
  work: string,
  sip: { address: string; port: number },
  onCore: (command: string, args: string[]) => [string, string[]],
): Promise<ChildProcess> {
  const config = join(work, 'drachtio.conf.xml');
  writeFileSync(
    config,
    drachtioConfigXml({
      adminPort: DRACHTIO_ADMIN.port,
      secret: DRACHTIO_ADMIN.secret,
      sip: { ...sip, transports: 'udp' },
      logLevel: 'warning',
    }),
  );
  const [command, args] = onCore(DRACHTIO_BINARY ?? '', ['-f', config]);
  const child = spawn(command, args, { cwd: work, stdio: 'ignore' });
  if (await adminPortOpened(child, DRACHTIO_ADMIN.port, 5000)) return child;
  child.kill('SIGKILL');
  throw new Error(`drachtio-server (${DRACHTIO_BINARY}) did not open its admin port ${DRACHTIO_ADMIN.port} within 5 s`);
}
