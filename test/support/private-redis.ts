import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait-for.js';

/** A redis-server log line's time: "06 Dec 2026 19:04:33.909", local time as Node reads it. */
const LOG_TIME = /(\d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2}\.\d{3})/;

/** When a redis-server logged `line`, in ms since the epoch; undefined: the line has no time. */
export function redisLogTime(line: string): number | undefined {
  const time = new Date(LOG_TIME.exec(line)?.[1] ?? '').getTime();
  return Number.isFinite(time) ? time : undefined;
}

/** What a sentinel monitors: the primary's name and port, the quorum, and how long the primary may be silent before this sentinel calls it down. */
export interface SentinelOf {
  name: string;
  port: number;
  quorum: number;
  downAfterMs: number;
}

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
    private readonly role: { replicaOf?: number; sentinelOf?: SentinelOf } = {},
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

  /** Frozen (SIGSTOP): the kernel still takes its connections, it answers nothing, as a hung host would. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || !this.running) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }

  /** A sentinel writes its own configuration back: a file of its own, in a folder of its own. */
  private sentinelConfig(primary: SentinelOf): string {
    const file = join(mkdtempSync(join(tmpdir(), 'drouter-sentinel-')), 'sentinel.conf');
    writeFileSync(
      file,
      [
        `port ${this.port}`,
        'bind 127.0.0.1',
        `sentinel monitor ${primary.name} 127.0.0.1 ${primary.port} ${primary.quorum}`,
        `sentinel down-after-milliseconds ${primary.name} ${primary.downAfterMs}`,
        // Quick to fail over again after a failed attempt: a test waits for it.
        `sentinel failover-timeout ${primary.name} 5000`,
        '',
      ].join('\n'),
    );
    return file;
  }
}
