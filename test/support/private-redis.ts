import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait-for.js';

/**
 * A redis-server of the test's own on 127.0.0.1 (nothing kept on disk), so
 * that it can be killed without touching anyone else's: a plain Redis, a
 * replica (`replicaOf`), or a Sentinel monitoring a primary.
 */
export class PrivateRedis {
  private process: ChildProcess | undefined;
  private output = '';

  constructor(
    readonly port: number,
    private readonly role: { replicaOf?: number; sentinelOf?: { name: string; port: number; quorum: number } } = {},
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  get running(): boolean {
    const child = this.process;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  async start(): Promise<void> {
    // A replica's first sync starts at once (Redis waits 5 s for more replicas by default).
    const args = this.role.sentinelOf
      ? [this.sentinelConfig(this.role.sentinelOf), '--sentinel']
      : // A folder of its own at each start: the RDB a replica's sync writes is never read back by a restart meant to be empty.
        [
          '--port',
          String(this.port),
          '--bind',
          '127.0.0.1',
          '--dir',
          mkdtempSync(join(tmpdir(), 'drouter-redis-')),
          '--save',
          '',
          '--appendonly',
          'no',
          '--repl-diskless-sync-delay',
          '0',
        ];
    if (this.role.replicaOf !== undefined) args.push('--replicaof', '127.0.0.1', String(this.role.replicaOf));
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    this.output = '';
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    const ready = this.role.sentinelOf ? /\+monitor master/ : /Ready to accept connections/;
    await waitFor(`redis-server on port ${this.port}`, 10_000, () => (ready.test(this.output) ? true : undefined), {
      detail: () => this.output,
    });
  }

  /** What it printed so far (a sentinel's +switch-master, a replica's sync). */
  get log(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || !this.running) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }

  /** A sentinel writes its own configuration back: a file of its own, in a folder of its own. */
  private sentinelConfig(primary: { name: string; port: number; quorum: number }): string {
    const file = join(mkdtempSync(join(tmpdir(), 'drouter-sentinel-')), 'sentinel.conf');
    writeFileSync(
      file,
      [
        `port ${this.port}`,
        'bind 127.0.0.1',
        `sentinel monitor ${primary.name} 127.0.0.1 ${primary.port} ${primary.quorum}`,
        // Quick to call the primary down and to fail over: a test waits for it.
        `sentinel down-after-milliseconds ${primary.name} 1000`,
        `sentinel failover-timeout ${primary.name} 5000`,
        '',
      ].join('\n'),
    );
    return file;
  }
}
