import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DRACHTIO_ADMIN, drachtioMissing, enginesToRun, startDrachtioServer } from './drachtio-server.js';
import { BENCH_REDIS_URL, deleteBenchKeys, PROXY_CORES, processTree, workerCountsToRun } from './workers.js';

/**
 * The shared method of the sipp-driven benchmarks: the proxy (`node
 * dist/cli.js start`) on core 0, sipp on core 1 (taskset); for each rate a
 * fresh proxy (and fresh sipp servers), a 2 s warm-up, then `STEP_SECONDS`
 * of load; the highest rate with no failure, retransmissions <= 1 % and
 * p95 <= 100 ms, found by doubling then bisecting three times. On the
 * drachtio engine a fresh drachtio-server per step holds the proxy's SIP
 * address, on core 0 beside the proxy, and its CPU is counted apart.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const SCENARIOS = join(ROOT, 'test', 'sipp');
export const PROXY = { address: '127.0.0.60', port: 5060 };
const STEP_SECONDS = Number(process.env.DROUTER_BENCH_STEP_SECONDS ?? 10);
/** Where each step's proxy writes a `--cpu-prof` profile (see profile-summary.ts), when set. */
const PROFILE_DIR = process.env.DROUTER_BENCH_PROFILE_DIR;
/** `--at RATE`: one step at that rate instead of the search (for profiles). */
const FIXED_RATE = process.argv.includes('--at') ? Number(process.argv[process.argv.indexOf('--at') + 1]) : undefined;
export const work = mkdtempSync(join(tmpdir(), 'drouter-bench-sipp-'));
const hasTaskset = spawnSync('taskset', ['--version']).error === undefined;
const hasSipp = spawnSync('sipp', ['-v']).error === undefined;

export type Engine = 'native' | 'drachtio';

/** How the proxy runs in a step: its engine, and with `--workers`, how many worker processes (on Redis). */
interface Variant {
  engine: Engine;
  /** undefined: one process on the in-process cache, as without `--workers`. */
  workers: number | undefined;
}

function describeVariant(variant: Variant): string {
  const workers = variant.workers === undefined ? '' : `, ${variant.workers} worker${variant.workers === 1 ? '' : 's'}`;
  return `${variant.engine} engine${workers}`;
}

/** `cores`: taskset's list (`1`, `0-1`). */
export function onCore(cores: number | string, command: string, args: string[]): [string, string[]] {
  return hasTaskset ? ['taskset', ['-c', String(cores), command, ...args]] : [command, args];
}

/** A scenario of test/sipp with its placeholders filled, written to the work folder. */
/** Where the sipp client (the phone) sends from. */
export const SIPP_PHONE = '127.0.0.61';

export function scenario(name: string, replace: Record<string, string> = {}): string {
  let text = readFileSync(join(SCENARIOS, name), 'utf8');
  for (const [key, value] of Object.entries(replace)) text = text.split(key).join(value);
  const file = join(work, name);
  writeFileSync(file, text);
  return file;
}

/** A sipp server (a stand-in gateway) on `address`:5060, until killed; it answers the prober's OPTIONS with 200 as Asterisk does (`-aa`). */
export function startSippServer(address: string, file: string): ChildProcess {
  const [command, args] = onCore(1, 'sipp', ['-sf', file, '-i', address, '-p', '5060', '-aa', '-nostdin']);
  return spawn(command, args, { cwd: work, stdio: 'ignore' });
}

/**
 * Prints a sipp benchmark's heading (step length, what runs where, `detail`)
 * or, without sipp, why it is skipped; true when it can run.
 */
export function announceSippBenchmark(name: string, detail?: string): boolean {
  if (!hasSipp) {
    console.log(`${name} benchmark: sipp is not installed (apt-get install sip-tester); skipped`);
    return false;
  }
  const proxyCores = workerCountsToRun() ? PROXY_CORES : '0';
  const placement = hasTaskset
    ? `proxy on core${proxyCores.length > 1 ? 's' : ''} ${proxyCores}, sipp on core 1`
    : 'no taskset: cores shared';
  console.log(`${name} benchmark: ${[`${STEP_SECONDS} s a step`, detail, placement].filter(Boolean).join(', ')}`);
  return true;
}

export interface LoadProfile {
  label: string;
  unit: string;
  /** Messages a successful item exchanges, for the retransmission share. */
  messagesPerItem: number;
  /** The client scenario (filled) and its extra sipp arguments (service, -inf …). */
  client(): { file: string; args: string[] };
  /** Servers the proxy talks to (gateways); killed after each step. */
  servers(): ChildProcess[];
  /** Extra environment of the proxy. */
  proxyEnv: Record<string, string>;
  /** Prepares the SQLite file before the proxy starts (it creates the schema and example data otherwise). */
  prepareStore?(file: string): Promise<void>;
  /** A program run in the proxy's place (the runtime floor's bare Node.js relay, bench/floor.ts): its name in the output and its command line. */
  standIn?: { name: string; command: readonly [string, ...string[]] };
  /** A start that takes long (a million rules to load): each step first waits until the proxy answers SIP, up to this long. */
  startsWithinMs?: number;
}

interface Step {
  rate: number;
  ok: boolean;
  completed: number;
  failed: number;
  retransmissionShare: number;
  p50: number;
  p95: number;
  p99: number;
  cpuUsPerItem: number;
  /** The kernel's part of it (system calls: sockets, syncs). */
  systemCpuUsPerItem: number;
  peakRssMb: number;
  /** drachtio-server's share, on the drachtio engine. */
  server?: { cpuUsPerItem: number; peakRssMb: number };
}

/** The processes' user and system CPU so far, in clock ticks (1/100 s), all threads, summed. */
export function cpuTicks(pids: readonly number[]): { user: number; system: number } {
  const total = { user: 0, system: 0 };
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    total.user += Number(fields[11]);
    total.system += Number(fields[12]);
  }
  return total;
}

/** The processes' peak resident sets, summed (a cluster's workers each hold their own heap). */
export function peakRssMb(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    const line =
      readFileSync(`/proc/${pid}/status`, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('VmHWM:')) ?? '';
    kb += Number(/(\d+)/.exec(line)?.[1] ?? 0);
  }
  return Math.round(kb / 1024);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

/** Runs sipp as the phone (SIPP_PHONE) against the proxy until it ends; true when every call succeeded (exit 0). */
export function runSipp(
  client: { file: string; args: string[] },
  extra: string[],
  timeoutSeconds: number,
  phone = SIPP_PHONE,
): boolean {
  const [command, args] = onCore(1, 'sipp', [
    `${PROXY.address}:${PROXY.port}`,
    '-sf',
    client.file,
    '-i',
    phone,
    '-nostdin',
    ...client.args,
    ...extra,
  ]);
  // An overloaded sipp can outlive its own -timeout and ignore SIGTERM.
  return (
    spawnSync(command, args, { cwd: work, stdio: 'ignore', timeout: timeoutSeconds * 1000, killSignal: 'SIGKILL' })
      .status === 0
  );
}

export function ticksToUs(ticks: { user: number; system: number }): number {
  return ((ticks.user + ticks.system) * 1e6) / 100;
}

let steps = 0;

/** The admin port of every benchmark's proxy. */
export const BENCH_ADMIN_PORT = 18080;

/**
 * The proxy of one step (`node dist/cli.js start`, or `options.command`) on
 * PROXY with UDP only, a fresh SQLite file, probing every second, on core 0.
 */
export function startBenchProxy(
  db: string,
  env: Record<string, string>,
  options: { command?: readonly string[]; cores?: number | string } = {},
): ChildProcess {
  const [program = process.execPath, ...programArgs] = options.command ?? [
    process.execPath,
    join(ROOT, 'dist', 'cli.js'),
    'start',
  ];
  const [command, args] = onCore(options.cores ?? 0, program, programArgs);
  return spawn(command, args, {
    cwd: ROOT,
    stdio: 'ignore',
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      DROUTER_STORE__URL: `sqlite:${db}`,
      DROUTER_SIP__ADDRESS: PROXY.address,
      DROUTER_SIP__PORT: String(PROXY.port),
      DROUTER_SIP__TRANSPORTS: 'udp',
      DROUTER_ADMIN__PORT: String(BENCH_ADMIN_PORT),
      DROUTER_LOG__LEVEL: 'error',
      // Probing runs as in production, every second so that a probe sent before the gateways listened is soon corrected.
      DROUTER_PROBE__INTERVAL_MS: '1000',
      ...env,
    },
  });
}

async function measuredStep(profile: LoadProfile, rate: number, variant: Variant): Promise<Step> {
  const { engine, workers } = variant;
  steps++;
  const db = join(work, `${profile.label.replace(/\W+/g, '-')}-${engine}-${workers ?? 0}w-${rate}.db`);
  await profile.prepareStore?.(db);
  const drachtio =
    engine === 'drachtio'
      ? await startDrachtioServer(work, PROXY, (command, args) => onCore(0, command, args))
      : undefined;
  const engineEnv: Record<string, string> = drachtio
    ? {
        DROUTER_SIP__ENGINE: 'drachtio',
        DROUTER_SIP__DRACHTIO__PORT: String(DRACHTIO_ADMIN.port),
        DROUTER_SIP__DRACHTIO__SECRET: DRACHTIO_ADMIN.secret,
      }
    : {};
  const profiling = PROFILE_DIR
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${PROFILE_DIR}`,
        `--cpu-prof-name=${profile.label.replace(/\W+/g, '-')}-${rate}.cpuprofile`,
      ]
    : [];
  // A fresh Redis namespace per step, as a fresh database file.
  const keyPrefix = `sipdr-bench:${process.pid}:${steps}:`;
  const clusterEnv: Record<string, string> =
    workers === undefined ? {} : { DROUTER_CACHE__URL: BENCH_REDIS_URL, DROUTER_CACHE__KEY_PREFIX: keyPrefix };
  const workerArgs = workers !== undefined && workers > 1 ? ['--workers', String(workers)] : [];
  const proxy = startBenchProxy(
    db,
    { ...engineEnv, ...clusterEnv, ...profile.proxyEnv },
    {
      command: profile.standIn?.command ?? [
        process.execPath,
        ...profiling,
        join(ROOT, 'dist', 'cli.js'),
        'start',
        ...workerArgs,
      ],
      cores: workers === undefined ? 0 : PROXY_CORES,
    },
  );
  const servers = profile.servers();
  try {
    if (profile.startsWithinMs !== undefined) await answersSip(PROXY, profile.startsWithinMs);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    if (proxy.exitCode !== null)
      throw new Error(`the proxy exited with ${proxy.exitCode} (is ${PROXY.address}:${PROXY.port} taken?)`);
    // taskset execs into the command: the child's pid is the proxy's (with --workers, the primary's: its workers are its children).
    const pids = processTree(proxy.pid ?? 0);
    const client = profile.client();
    runSipp(client, ['-r', '200', '-m', '400', '-timeout', '20s'], 30);
    const items = rate * STEP_SECONDS;
    const ticksBefore = cpuTicks(pids);
    const serverPid = drachtio?.pid ?? 0;
    const serverTicksBefore = drachtio ? cpuTicks([serverPid]) : undefined;
    const stats = join(work, `stat-${rate}.csv`);
    runSipp(
      client,
      [
        '-r',
        String(rate),
        '-m',
        String(items),
        '-l',
        String(rate * 4),
        '-timeout',
        `${STEP_SECONDS + 20}s`,
        '-max_retrans',
        '5',
        '-trace_stat',
        '-stf',
        stats,
        '-fd',
        '1',
        '-trace_rtt',
        '-rtt_freq',
        '1',
      ],
      STEP_SECONDS + 30,
    );
    const ticksAfter = cpuTicks(pids);
    const serverTicksAfter = drachtio ? cpuTicks([serverPid]) : undefined;
    const systemCpuUs = ((ticksAfter.system - ticksBefore.system) * 1e6) / 100;
    const cpuUs = ((ticksAfter.user - ticksBefore.user) * 1e6) / 100 + systemCpuUs;
    const lines = readFileSync(stats, 'utf8').trim().split('\n');
    const names = (lines[0] ?? '').split(';');
    const last = (lines[lines.length - 1] ?? '').split(';');
    const value = (name: string) => Number(last[names.indexOf(name)] ?? 0);
    const completed = value('SuccessfulCall(C)');
    const rttFiles = readdirSync(work).filter((f) => f.endsWith('_rtt.csv'));
    const rtts = rttFiles
      .flatMap((f) => readFileSync(join(work, f), 'utf8').trim().split('\n').slice(1))
      .map((l) => Number(l.split(';')[1]))
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    for (const f of rttFiles) execFileSync('rm', ['-f', join(work, f)]);
    const step: Step = {
      rate,
      completed,
      failed: value('FailedCall(C)') + Math.max(0, items - completed - value('FailedCall(C)')),
      retransmissionShare: value('Retransmissions(C)') / Math.max(1, items * profile.messagesPerItem),
      p50: percentile(rtts, 0.5),
      p95: percentile(rtts, 0.95),
      p99: percentile(rtts, 0.99),
      cpuUsPerItem: cpuUs / Math.max(1, completed),
      systemCpuUsPerItem: systemCpuUs / Math.max(1, completed),
      peakRssMb: peakRssMb(pids),
      ...(serverTicksBefore && serverTicksAfter
        ? {
            server: {
              cpuUsPerItem: (ticksToUs(serverTicksAfter) - ticksToUs(serverTicksBefore)) / Math.max(1, completed),
              peakRssMb: peakRssMb([serverPid]),
            },
          }
        : {}),
      ok: false,
    };
    step.ok = step.failed === 0 && step.retransmissionShare <= 0.01 && step.p95 <= 100;
    console.log(
      `  ${String(rate).padStart(6)} ${profile.unit}  ${step.ok ? 'ok  ' : 'FAIL'}  completed ${step.completed}, failed ${step.failed}, retrans ${(step.retransmissionShare * 100).toFixed(2)} %, p50/p95/p99 ${step.p50}/${step.p95}/${step.p99} ms, ${Math.round(step.cpuUsPerItem)} µs CPU each (${Math.round(step.systemCpuUsPerItem)} µs system), peak RSS ${step.peakRssMb} MB${serverPart(step)}`,
    );
    return step;
  } finally {
    for (const server of servers) server.kill('SIGKILL');
    proxy.kill('SIGTERM');
    // A profiled proxy writes its profile on the way out; a cluster stops its workers first. The next step binds the same address.
    const exited = proxy.exitCode !== null || proxy.signalCode !== null ? Promise.resolve() : once(proxy, 'exit');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, PROFILE_DIR ? 3000 : 2500))]);
    await new Promise((resolve) => setTimeout(resolve, PROFILE_DIR ? 0 : 200));
    if (workers !== undefined) await deleteBenchKeys(keyPrefix);
    drachtio?.kill('SIGKILL');
    if (drachtio) await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/**
 * Resolves once `target` answers an OPTIONS with any response (ours 200,
 * Kamailio's benchmark configurations 405), asking every 250 ms; rejects
 * after `withinMs`. Asked from 127.0.0.62, an address no step uses.
 */
async function answersSip(target: { address: string; port: number }, withinMs: number): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.62', resolve));
  const { port } = socket.address();
  try {
    const answered = once(socket, 'message');
    const deadline = Date.now() + withinMs;
    for (let attempt = 1; Date.now() < deadline; attempt++) {
      const options = [
        `OPTIONS sip:${target.address}:${target.port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.62:${port};branch=z9hG4bK-bench-ready-${attempt}`,
        'From: <sip:bench@127.0.0.62>;tag=ready',
        `To: <sip:${target.address}>`,
        `Call-ID: bench-ready-${process.pid}-${attempt}`,
        'CSeq: 1 OPTIONS',
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      socket.send(options, target.port, target.address);
      const reply = await Promise.race([
        answered.then(() => true),
        new Promise<false>((resolve) => setTimeout(resolve, 250, false)),
      ]);
      if (reply) return;
    }
    throw new Error(`${target.address}:${target.port} did not answer SIP within ${withinMs} ms`);
  } finally {
    socket.close();
  }
}

function serverPart(step: Step): string {
  return step.server
    ? `; drachtio-server ${Math.round(step.server.cpuUsPerItem)} µs CPU each, peak RSS ${step.server.peakRssMb} MB`
    : '';
}

/**
 * Runs `profile` on each engine `--engine` asks for, or with `--workers N`
 * as one process and as N workers (docs/benchmarks.md); a drachtio run
 * without its binary says so.
 */
export async function findSustainedRates(profile: LoadProfile, startRate: number): Promise<void> {
  if (profile.standIn) {
    await findSustainedRate(profile, startRate, { engine: 'native', workers: undefined });
    return;
  }
  const workerCounts = workerCountsToRun();
  if (workerCounts) {
    for (const workers of workerCounts) await findSustainedRate(profile, startRate, { engine: 'native', workers });
    return;
  }
  for (const engine of enginesToRun()) {
    const missing = engine === 'drachtio' ? drachtioMissing() : undefined;
    if (missing) {
      console.log(`${profile.label} (drachtio engine): skipped: ${missing}`);
      continue;
    }
    await findSustainedRate(profile, startRate, { engine, workers: undefined });
  }
}

/** The highest rate `profile` sustains on `variant` (undefined when even the lowest tried failed), printed as it is found. */
export async function findSustainedRate(
  profile: LoadProfile,
  startRate: number,
  variant: Variant = { engine: 'native', workers: undefined },
): Promise<number | undefined> {
  const runner = profile.standIn?.name ?? describeVariant(variant);
  console.log(`${profile.label} (${runner}):`);
  if (FIXED_RATE !== undefined) {
    const step = await measuredStep(profile, FIXED_RATE, variant);
    return step.ok ? step.rate : undefined;
  }
  let good: Step | undefined;
  let bad: Step | undefined;
  // Doubling while steps pass, halving while they fail, until one of each.
  for (
    let rate = startRate;
    !(good && bad) && rate <= startRate * 128 && rate >= startRate / 16;
    rate = good ? rate * 2 : Math.round(rate / 2)
  ) {
    const step = await measuredStep(profile, rate, variant);
    if (step.ok) good = step;
    else bad = step;
  }
  for (let i = 0; i < 3 && good && bad && bad.rate - good.rate > good.rate / 8; i++) {
    const step = await measuredStep(profile, Math.round((good.rate + bad.rate) / 2), variant);
    if (step.ok) good = step;
    else bad = step;
  }
  if (!good) {
    console.log(`  => sustains less than ${bad?.rate} ${profile.unit}`);
    return undefined;
  }
  console.log(
    `  => ${runner}: sustains ${good.rate} ${profile.unit} (p50/p95/p99 ${good.p50}/${good.p95}/${good.p99} ms, ${Math.round(good.cpuUsPerItem)} µs CPU each, proxy peak RSS ${good.peakRssMb} MB${serverPart(good)})`,
  );
  return good.rate;
}
