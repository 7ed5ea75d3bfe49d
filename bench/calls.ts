import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `npm run bench` (calls part): the running proxy on loopback, sipp as the
 * phone (127.0.0.61) and as the gateways (127.0.0.2, 127.0.0.3). Finds the
 * highest call rate (INVITE/180/200/ACK/BYE, 1 s hold) with no failed call,
 * retransmissions <= 1 % and p95 INVITE→200 <= 100 ms: doubling, then
 * bisecting, 10 s a step after a 2 s warm-up. Then the same with gateway 1 answering 503
 * (every call fails over). Proxy on core 0, sipp on core 1 (taskset).
 */

const ROOT = join(import.meta.dirname, '..', '..');
const SCENARIOS = join(ROOT, 'test', 'sipp');
const PROXY = { address: '127.0.0.60', port: 5060 };
const STEP_SECONDS = Number(process.env.DROUTER_BENCH_STEP_SECONDS ?? 10);
const work = mkdtempSync(join(tmpdir(), 'drouter-bench-calls-'));
const hasTaskset = spawnSync('taskset', ['--version']).error === undefined;

function onCore(core: number, command: string, args: string[]): [string, string[]] {
  return hasTaskset ? ['taskset', ['-c', String(core), command, ...args]] : [command, args];
}

function scenario(name: string, replace: Record<string, string> = {}): string {
  let text = readFileSync(join(SCENARIOS, name), 'utf8');
  for (const [key, value] of Object.entries(replace)) text = text.split(key).join(value);
  const file = join(work, name);
  writeFileSync(file, text);
  return file;
}

function startGateway(address: string, file: string): ChildProcess {
  const [command, args] = onCore(1, 'sipp', ['-sf', file, '-i', address, '-p', '5060', '-nostdin']);
  return spawn(command, args, { cwd: work, stdio: 'ignore' });
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]);
}

function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:')) ?? '';
  return Math.round(Number(/(\d+)/.exec(line)?.[1] ?? 0) / 1024);
}

interface Step {
  rate: number;
  ok: boolean;
  calls: number;
  failed: number;
  retransmissionShare: number;
  p50: number;
  p95: number;
  p99: number;
  cpuUsPerCall: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

/** Two seconds of calls at 200/s first: a running proxy is measured, not its JIT warming up. */
function warmUp(file: string): void {
  const [command, args] = onCore(1, 'sipp', [`${PROXY.address}:${PROXY.port}`, '-sf', file, '-s', '01144201234567', '-i', '127.0.0.61', '-r', '200', '-m', '400', '-nostdin', '-timeout', '20s']);
  spawnSync(command, args, { cwd: work, stdio: 'ignore', timeout: 30_000 });
}

function runStep(proxyPid: number, rate: number): Step {
  const calls = rate * STEP_SECONDS;
  const file = scenario('uac-call.xml', { HOLD_MS: '1000' });
  warmUp(file);
  const ticksBefore = cpuTicks(proxyPid);
  const [command, args] = onCore(1, 'sipp', [
    `${PROXY.address}:${PROXY.port}`, '-sf', file, '-s', '01144201234567', '-i', '127.0.0.61',
    '-r', String(rate), '-m', String(calls), '-l', String(rate * 4), '-nostdin',
    '-timeout', `${STEP_SECONDS + 20}s`, '-max_retrans', '5',
    '-trace_stat', '-stf', join(work, `stat-${rate}.csv`), '-fd', '1', '-trace_rtt', '-rtt_freq', '1',
  ]);
  spawnSync(command, args, { cwd: work, stdio: 'ignore', timeout: (STEP_SECONDS + 30) * 1000 });
  const cpuUs = ((cpuTicks(proxyPid) - ticksBefore) * 1e6) / 100;
  const statLines = readFileSync(join(work, `stat-${rate}.csv`), 'utf8').trim().split('\n');
  const names = (statLines[0] ?? '').split(';');
  const last = (statLines[statLines.length - 1] ?? '').split(';');
  const value = (name: string) => Number(last[names.indexOf(name)] ?? 0);
  const successful = value('SuccessfulCall(C)');
  const failed = value('FailedCall(C)') + Math.max(0, calls - successful - value('FailedCall(C)'));
  const retransmissions = value('Retransmissions(C)');
  const rttFile = readdirSync(work).find((f) => f.endsWith('_rtt.csv'));
  const rtts = rttFile
    ? readFileSync(join(work, rttFile), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(';')[1])).filter(Number.isFinite).sort((a, b) => a - b)
    : [];
  if (rttFile) execFileSync('rm', ['-f', join(work, rttFile)]);
  const step = {
    rate,
    calls: successful,
    failed,
    retransmissionShare: retransmissions / Math.max(1, calls * 6),
    p50: percentile(rtts, 0.5),
    p95: percentile(rtts, 0.95),
    p99: percentile(rtts, 0.99),
    cpuUsPerCall: cpuUs / Math.max(1, successful),
    ok: false,
  };
  step.ok = step.failed === 0 && step.retransmissionShare <= 0.01 && step.p95 <= 100;
  return step;
}

function print(step: Step & { peakRssMb: number }): void {
  console.log(
    `  ${String(step.rate).padStart(6)} calls/s  ${step.ok ? 'ok  ' : 'FAIL'}  completed ${step.calls}, failed ${step.failed}, retrans ${(step.retransmissionShare * 100).toFixed(2)} %, INVITE→200 p50/p95/p99 ${step.p50}/${step.p95}/${step.p99} ms, ${Math.round(step.cpuUsPerCall)} µs CPU/call, peak RSS ${step.peakRssMb} MB`,
  );
}

interface Rig {
  pid: number;
  stop(): Promise<void>;
}

/**
 * A fresh proxy and fresh gateways for every step: a step that overloads
 * the proxy lets calls time out, which marks gateways down (passive
 * marking), and without the prober nothing brings them back.
 */
async function startRig(label: string, rate: number, gateway1Scenario: string): Promise<Rig> {
  const db = join(work, `${label.replace(/\W+/g, '-')}-${rate}.db`);
  const [command, args] = onCore(0, process.execPath, [join(ROOT, 'dist', 'cli.js'), 'start']);
  const proxy = spawn(command, args, {
    cwd: ROOT,
    stdio: 'ignore',
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      DROUTER_STORE__URL: `sqlite:${db}`,
      DROUTER_SIP__ADDRESS: PROXY.address,
      DROUTER_SIP__PORT: String(PROXY.port),
      DROUTER_SIP__TRANSPORTS: 'udp',
      DROUTER_ADMIN__PORT: '18080',
      DROUTER_LOG__LEVEL: 'error',
    },
  });
  const gateways = [startGateway('127.0.0.2', scenario(gateway1Scenario)), startGateway('127.0.0.3', scenario('uas-answer.xml'))];
  await new Promise((resolve) => setTimeout(resolve, 2500));
  if (proxy.exitCode !== null) throw new Error(`the proxy exited with ${proxy.exitCode} (is ${PROXY.address}:${PROXY.port} taken?)`);
  return {
    // taskset execs into the command: the child's pid is the proxy's.
    pid: proxy.pid ?? 0,
    async stop() {
      for (const gateway of gateways) gateway.kill('SIGKILL');
      proxy.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 1000));
    },
  };
}

async function measuredStep(label: string, rate: number, gateway1Scenario: string): Promise<Step & { peakRssMb: number }> {
  const rig = await startRig(label, rate, gateway1Scenario);
  try {
    const step = runStep(rig.pid, rate);
    const result = { ...step, peakRssMb: peakRssMb(rig.pid) };
    print(result);
    return result;
  } finally {
    await rig.stop();
  }
}

async function measure(label: string, gateway1Scenario: string): Promise<void> {
  console.log(`${label}:`);
  let good: (Step & { peakRssMb: number }) | undefined;
  let bad: Step | undefined;
  for (let rate = 100; rate <= 12_800 && !bad; rate *= 2) {
    const step = await measuredStep(label, rate, gateway1Scenario);
    if (step.ok) good = step;
    else bad = step;
  }
  for (let i = 0; i < 3 && good && bad && bad.rate - good.rate > 50; i++) {
    const step = await measuredStep(label, Math.round((good.rate + bad.rate) / 2), gateway1Scenario);
    if (step.ok) good = step;
    else bad = step;
  }
  console.log(`  => sustains ${good?.rate ?? 0} calls/s (p50/p95/p99 ${good?.p50}/${good?.p95}/${good?.p99} ms, ${Math.round(good?.cpuUsPerCall ?? 0)} µs CPU/call, proxy peak RSS ${good?.peakRssMb} MB)`);
}

if (spawnSync('sipp', ['-v']).error) {
  console.log('calls benchmark: sipp is not installed (apt-get install sip-tester); skipped');
} else {
  console.log(`calls benchmark: ${STEP_SECONDS} s a step, ${hasTaskset ? 'proxy on core 0, sipp on core 1' : 'no taskset: cores shared'}`);
  await measure('calls to gateway 1', 'uas-answer.xml');
  await measure('calls failing over (gateway 1 answers 503)', 'uas-503.xml');
}
