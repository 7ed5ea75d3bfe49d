import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { configSchema } from '../../../src/config/schema.js';
import { CLI, type RunningDrouter, runDrouter, waitForOutput } from '../drouter-process.js';
import { type MetricFamily, parseExposition } from '../exposition.js';
import type { CommandResult, Namespace } from './namespaces.js';

/**
 * One sip-drouter node of the lab: `drouter start` in its own namespace,
 * with a configuration file written for it. Its admin API listens on the
 * namespace's own loopback, which only a process inside the namespace can
 * reach, so the test asks through `ip netns exec`.
 */

/** Each namespace has its own loopback: both nodes use the same admin port. */
export const ADMIN_PORT = 8080;

/** One of pino's JSON lines: its message and the fields logged with it. */
type LogLine = Record<string, unknown> & { msg?: string };

export interface HaHealth {
  status: string;
  store: { ok: boolean };
  cache: { ok: boolean };
  sip: { ok: boolean };
  /** This process's lease name, its role, what keepalived last said, who holds the lease by the cache. */
  ha: { holder: string; role: 'leader' | 'standby'; keepalived: string; leaseHolder: string | null };
}

export interface AdminAnswer {
  status: number;
  body: string;
}

/** A fetch from inside the namespace, printed as "STATUS\nBODY"; status 0 when nothing answers. */
export class LabNode {
  private running: RunningDrouter | undefined;
  /** What the node's earlier runs (before a kill and a restart) wrote. */
  private earlierOutput = '';
  readonly configFile: string;

  /** `config` is validated by the product's own schema before the file is written. */
  constructor(
    readonly name: string,
    readonly namespace: Namespace,
    dir: string,
    config: Record<string, unknown>,
  ) {
    const parsed = configSchema.safeParse(config);
    if (!parsed.success) throw new Error(`lab node ${name}: invalid configuration: ${parsed.error.message}`);
    this.configFile = join(dir, `node-${name}.yaml`);
    writeFileSync(this.configFile, stringify(config));
  }

  /** `drouter start` until its start-up line. */
  async start(): Promise<void> {
    if (this.alive) throw new Error(`node ${this.name} is already running`);
    this.earlierOutput = this.output();
    this.running = runDrouter(['start', '--config', this.configFile], {}, ['ip', 'netns', 'exec', this.namespace.name]);
    await waitForOutput(this.running, /drouter started/, 20_000);
  }

  get alive(): boolean {
    const child = this.running?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** The running process's pid: the same before and after an outage means it was not restarted. */
  get pid(): number | undefined {
    return this.alive ? this.running?.child.pid : undefined;
  }

  /** The process's exit code or signal, for a test that asserts it did not crash. */
  get exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    const child = this.running?.child;
    if (!child || this.alive) return undefined;
    return { code: child.exitCode, signal: child.signalCode };
  }

  /** SIGKILL: a crash, nothing cleaned up. SIGTERM: the clean stop. */
  async kill(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const child = this.running?.child;
    if (!child || !this.alive) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }

  /** What the node wrote so far in all its runs: JSON log lines on stdout, anything else on stderr. */
  output(): string {
    return this.earlierOutput + (this.running ? this.running.stdout() + this.running.stderr() : '');
  }

  /** Every JSON log line so far, in all runs, parsed. */
  logLines(): LogLine[] {
    return this.output()
      .split('\n')
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as LogLine];
        } catch {
          return [];
        }
      });
  }

  /** The `msg` of every JSON log line so far, in all runs. */
  logMessages(): string[] {
    return this.logLines().map((line) => line.msg ?? '');
  }

  /**
   * When this node became the leader and when it stopped being it, by its
   * own log lines (pino's `time`), in all runs. The node logs becoming the
   * leader after Redis granted the lease and stepping down before it gives
   * the lease up, so these spans lie within its true leadership.
   */
  leadership(): { role: 'leader' | 'standby'; time: number }[] {
    return this.logLines().flatMap((line) =>
      (line.role === 'leader' || line.role === 'standby') && typeof line.time === 'number'
        ? [{ role: line.role, time: line.time }]
        : [],
    );
  }

  /**
   * A request to its admin API, by curl inside the namespace: status 0 when
   * nothing answers within 3 s. Not a Node.js process per request: the
   * tests poll /health, and on a 2-core machine those starts (0.4 s of CPU
   * each) starved the nodes and keepalived's checks.
   */
  async admin(path: string, method: 'GET' | 'POST' = 'GET'): Promise<AdminAnswer> {
    const json = method === 'POST' ? ['-H', 'Content-Type: application/json'] : [];
    const result = await this.namespace.run('curl', [
      '-s',
      '-m',
      '3',
      '-X',
      method,
      ...json,
      '-w',
      '\n%{http_code}',
      `http://127.0.0.1:${ADMIN_PORT}${path}`,
    ]);
    const newline = result.stdout.lastIndexOf('\n');
    if (newline < 0) return { status: 0, body: '' };
    return { status: Number(result.stdout.slice(newline + 1)), body: result.stdout.slice(0, newline) };
  }

  async health(): Promise<HaHealth> {
    const answer = await this.admin('/health');
    if (answer.status === 0) throw new Error(`node ${this.name}: no admin API answers`);
    return JSON.parse(answer.body) as HaHealth;
  }

  async metrics(): Promise<Map<string, MetricFamily>> {
    const answer = await this.admin('/metrics');
    if (answer.status !== 200) throw new Error(`node ${this.name}: /metrics answered ${answer.status}`);
    return parseExposition(answer.body);
  }

  /** `drouter ARGS --config FILE` inside the node's namespace, as keepalived's scripts run it. */
  cli(...args: string[]): Promise<CommandResult> {
    return this.namespace.run(process.execPath, [CLI, ...args, '--config', this.configFile], 20_000);
  }
}
