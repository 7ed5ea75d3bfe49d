import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminPortOpened, drachtioConfigXml } from './drachtio-launch.js';

/**
 * The drachtio-server binary for tests that start and kill their own
 * (DROUTER_TEST_DRACHTIO_BINARY). drachtio-server is in no package registry:
 * ../shared/vendor/build-drachtio.sh builds it (docs/engines.md, "The drachtio
 * engine""). Without it those tests are skipped, unless DROUTER_TEST_DRACHTIO
 * is set (as .ci/run sets it): then a missing binary is a failure.
 */
export const DRACHTIO_BINARY = drachtioBinary(process.env.DROUTER_TEST_DRACHTIO_BINARY);

function drachtioBinary(path: string | undefined): string | undefined {
  if (path && existsSync(path)) return path;
  if (process.env.DROUTER_TEST_DRACHTIO) {
    throw new Error(
      `DROUTER_TEST_DRACHTIO is set but there is no drachtio-server binary at DROUTER_TEST_DRACHTIO_BINARY=${JSON.stringify(path ?? '')} (build it with ../shared/vendor/build-drachtio.sh OUT_DIR)`,
    );
  }
  return undefined;
}

export interface DrachtioServerOptions {
  /** Its admin port (on 127.0.0.1) and secret: the <admin> element. */
  adminPort: number;
  secret: string;
  /** The SIP contact it listens on, UDP and TCP. */
  sipAddress: string;
  sipPort: number;
  /**
   * Inbound mode: its <request-handler> for every method, e.g. tcp://127.0.0.1:9023,
   * so that it connects to the app there for each new request instead of waiting for it on <admin>.
   */
  requestHandler?: string;
  /** More contacts and the <tls> files for them (drachtioConfigXml). */
  moreContacts?: readonly string[];
  tls?: { keyFile: string; certFile: string; chainFile: string };
}

/** A drachtio-server child process with a config file of its own in a temp folder. */
export class DrachtioServerProcess {
  private child: ChildProcess | undefined;
  private output = '';
  private readonly dir = mkdtempSync(join(tmpdir(), 'drouter-drachtio-'));
  private readonly configFile = join(this.dir, 'drachtio.conf.xml');

  constructor(
    private readonly binary: string,
    readonly options: DrachtioServerOptions,
  ) {
    writeFileSync(
      this.configFile,
      drachtioConfigXml({
        adminPort: options.adminPort,
        secret: options.secret,
        sip: { address: options.sipAddress, port: options.sipPort, transports: 'udp,tcp' },
        requestHandler: options.requestHandler,
        moreContacts: options.moreContacts,
        tls: options.tls,
        logLevel: 'notice',
      }),
    );
  }

  /** What it printed, for a failing test's message. */
  get log(): string {
    return this.output;
  }

  /** Starts it and waits until its admin port takes connections. */
  async start(timeoutMs = 5000): Promise<void> {
    const child = spawn(this.binary, ['-f', this.configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    if (await adminPortOpened(child, this.options.adminPort, timeoutMs)) return;
    throw new Error(
      `drachtio-server (${this.binary}) did not open its admin port ${this.options.adminPort}; it said:\n${this.output}`,
    );
  }

  /** Ends it the hard way (a crash, as the tests mean it) and waits for the exit. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  async close(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
