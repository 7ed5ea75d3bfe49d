import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderScenario } from '../sipp.js';
import type { Namespace } from './namespaces.js';

/**
 * sipp in a lab namespace: phones, the load and the gateways. Every run is
 * bounded (`-timeout`, and `-m` for the ones that end by themselves) and
 * leaves its statistics in files of its own directory: the cumulative
 * counters (`-trace_stat`, every second and at the end), the response
 * times with when they were measured (`-trace_rtt`), the scenario's
 * `<log>` lines (`-trace_logs`) and what went wrong (`-trace_err`).
 */

export interface LabSippOptions {
  /** A scenario of test/sipp, its placeholders filled from `replace`. */
  scenario: string;
  replace?: Record<string, string>;
  localIp: string;
  localPort?: number;
  /** address:port to send to; none for a UAS. */
  target?: string;
  service?: string;
  /** Rows of the injection file (-inf), read in order: [field0], [field1], ... */
  injection?: string[][];
  /** New calls per second (-r). */
  rate?: number;
  /** Calls at once at most (-l). */
  limit?: number;
  /** Calls in all, then sipp ends (-m). */
  calls?: number;
  /** The whole run ends, as a failure, after this (-timeout, -timeout_error). */
  timeoutSeconds: number;
  /** The scenario for requests outside sipp's own calls (-oocsf): a phone answering a call to it. */
  answerIncoming?: string;
  /** Response times (-trace_rtt) of the scenario's rtd="true" steps. */
  rtt?: boolean;
}

/** sipp's cumulative counters by their -trace_stat column name: SuccessfulCall(C), FailedCall(C), ... */
export type SippStats = Record<string, number>;

export class LabSipp {
  private output = '';
  private readonly startedAtMs = Date.now();

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly finished: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
  }

  static start(namespace: Namespace, baseDir: string, options: LabSippOptions): LabSipp {
    const dir = mkdtempSync(join(baseDir, 'sipp-'));
    const scenario = renderScenario(options.scenario, options.replace ?? {}, dir);
    const args = [
      ...(options.target ? [options.target] : []),
      '-sf',
      scenario,
      '-i',
      options.localIp,
      ...(options.localPort ? ['-p', String(options.localPort)] : []),
      ...(options.service ? ['-s', options.service] : []),
      ...(options.injection ? ['-inf', writeInjection(dir, options.injection)] : []),
      ...(options.rate !== undefined ? ['-r', String(options.rate)] : []),
      ...(options.limit !== undefined ? ['-l', String(options.limit)] : []),
      ...(options.calls !== undefined ? ['-m', String(options.calls)] : []),
      ...(options.answerIncoming ? ['-oocsf', renderScenario(options.answerIncoming, {}, dir)] : []),
      ...(options.rtt ? ['-trace_rtt', '-rtt_freq', '1'] : []),
      '-trace_stat',
      '-fd',
      '1',
      '-trace_logs',
      '-trace_err',
      '-timeout',
      `${options.timeoutSeconds}s`,
      '-timeout_error',
      '-nostdin',
      '-max_retrans',
      '5',
    ];
    const child = namespace.spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const finished = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    return new LabSipp(child, dir, finished);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The counters of the last -trace_stat line (written every second, and at the end). */
  stats(): SippStats {
    const file = this.file('_.csv');
    if (!file) return {};
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const header = (lines[0] ?? '').split(';');
    const last = (lines.at(-1) ?? '').split(';');
    const stats: SippStats = {};
    header.forEach((name, index) => {
      const value = Number(last[index]);
      if (name && Number.isFinite(value)) stats[name] = value;
    });
    // StartTime is "date<TAB>time<TAB>epoch seconds".
    stats.StartEpochMs = Number((last[0] ?? '').split('\t')[2]) * 1000;
    return stats;
  }

  /** Completed rtd="true" steps: when (epoch ms) and how long each took. */
  rtt(): { atMs: number; ms: number }[] {
    const file = this.file('_rtt.csv');
    const start = this.stats().StartEpochMs ?? this.startedAtMs;
    if (!file) return [];
    return readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((line) => {
        const [at = '0', ms = '0'] = line.split(';');
        return { atMs: start + Number(at), ms: Number(ms) };
      });
  }

  /** The scenario's <log> lines so far. */
  logLines(): string[] {
    const file = this.file('_logs.log');
    return file ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  }

  /**
   * Why calls failed, from sipp's error log: the status of each unexpected
   * response that ended one (a 503 where a 401 or 200 was due), and how many
   * ended on a retransmission timeout (no answer at all).
   */
  failures(): { unexpectedStatus: Record<string, number>; retransmissionTimeouts: number } {
    const file = this.file('_errors.log');
    const text = file ? readFileSync(file, 'utf8') : '';
    const unexpectedStatus: Record<string, number> = {};
    for (const match of text.matchAll(
      /Aborting call on unexpected message for Call-Id '[^']*': while expecting '[^']*' \(index \d+\), received 'SIP\/2\.0 (\d{3})/g,
    )) {
      const status = match[1] ?? '';
      unexpectedStatus[status] = (unexpectedStatus[status] ?? 0) + 1;
    }
    return {
      unexpectedStatus,
      retransmissionTimeouts: [...text.matchAll(/Aborting call on UDP retransmission timeout/g)].length,
    };
  }

  /** sipp's screen output and its error log (unexpected messages, in full), for a failure message. */
  screen(): string {
    const errors = this.file('_errors.log');
    return `${this.output}\n${errors ? readFileSync(errors, 'utf8').slice(0, 20_000) : ''}`;
  }

  /** Ends it now (a run that outlived its purpose: the phones, a load cut short). */
  async stop(): Promise<void> {
    if (!this.alive) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }

  private file(suffix: string): string | undefined {
    if (!existsSync(this.dir)) return undefined;
    const name = readdirSync(this.dir).find(
      (entry) => entry.endsWith(suffix) && (suffix !== '_.csv' || !entry.endsWith('_rtt.csv')),
    );
    return name ? join(this.dir, name) : undefined;
  }
}

function writeInjection(dir: string, rows: string[][]): string {
  const file = join(dir, 'injection.csv');
  writeFileSync(file, ['SEQUENTIAL', ...rows.map((row) => row.join(';'))].join('\n') + '\n');
  return file;
}
