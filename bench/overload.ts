import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { callProfile } from './load-profiles.js';
import {
  announceSippBenchmark,
  BENCH_ADMIN_PORT,
  cpuTicks,
  findSustainedRate,
  onCore,
  peakRssMb,
  PROXY,
  runSipp,
  scenario,
  SIPP_PHONE,
  startBenchProxy,
  startSippServer,
  ticksToUs,
  work,
} from './sipp-load.js';
import { processTree } from './workers.js';

/**
 * `npm run bench -- --only overload` (docs/security.md "Under attack"): calls at twice
 * the rate the calls part sustains, for 20 s, with both gateways answering;
 * printed: the goodput (answered calls a second), the 503s and whether each
 * carried Retry-After, gateways marked down, the proxy's peak RSS, and the
 * time from the end of the load until a call is answered again with both
 * gateways up. Then a REGISTER brute force at 5 000 guesses a second from
 * one address: the proxy's CPU once the source is banned.
 * DROUTER_BENCH_SUSTAINED_RATE skips the search for the sustained rate.
 * Targets (issue 17): goodput >= 80 % of the sustained rate, no gateway
 * marked down, full service within 2 s, <= 10 % of a core after the ban.
 */

const LOAD_SECONDS = 20;
const NUMBER = '01144201234567';
const admin = `http://127.0.0.1:${BENCH_ADMIN_PORT}`;
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The sum of a metric's series whose labels include `labels` (exposition text, no parser needed for counters). */
function seriesSum(exposition: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    const match = new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`).exec(line);
    if (!match) continue;
    const found = Object.fromEntries(
      [...(match[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m): [string, string] => [m[1] ?? '', m[2] ?? '']),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) sum += Number(match[2]);
  }
  return sum;
}

/** The last row of sipp's -trace_counts file, by column: messages received per scenario step. */
function traceCounts(prefix: string): Record<string, number> {
  const file = readdirSync(work).find((name) => name.startsWith(prefix) && name.endsWith('_counts.csv'));
  if (!file) return {};
  const lines = readFileSync(join(work, file), 'utf8').trim().split('\n');
  rmSync(join(work, file));
  const names = (lines[0] ?? '').split(';');
  const last = (lines[lines.length - 1] ?? '').split(';');
  return Object.fromEntries(names.map((name, i) => [name, Number(last[i] ?? 0)]));
}

function statColumn(file: string, column: string): number {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const names = (lines[0] ?? '').split(';');
  return Number((lines[lines.length - 1] ?? '').split(';')[names.indexOf(column)] ?? 0);
}

async function gatewaysAllUp(): Promise<boolean> {
  const gateways = (await (await fetch(`${admin}/gateways`)).json()) as { state: string }[];
  return gateways.every((gateway) => gateway.state === 'active');
}

async function overloadRun(rate: number, sustained: number): Promise<void> {
  console.log(`calls at ${rate}/s (twice the ${sustained}/s sustained), ${LOAD_SECONDS} s, both gateways answering:`);
  const proxy = startBenchProxy(join(work, `overload-${rate}.db`), { DROUTER_AUTH__TRUSTED_SOURCES: SIPP_PHONE });
  const servers = [
    startSippServer('127.0.0.2', scenario('uas-answer.xml')),
    startSippServer('127.0.0.3', scenario('uas-answer.xml')),
  ];
  try {
    await settle(2500);
    const pids = processTree(proxy.pid ?? 0);
    const client = { file: scenario('uac-call-overload.xml', { HOLD_MS: '1000' }), args: ['-s', NUMBER] };
    const stats = join(work, 'overload-stat.csv');
    const started = Date.now();
    const ticksBefore = cpuTicks(pids);
    runSipp(
      client,
      [
        '-r',
        String(rate),
        '-m',
        String(rate * LOAD_SECONDS),
        '-l',
        String(rate * 8),
        '-timeout',
        `${LOAD_SECONDS + 20}s`,
        '-max_retrans',
        '5',
        '-trace_stat',
        '-stf',
        stats,
        '-trace_counts',
      ],
      LOAD_SECONDS + 30,
    );
    const cpuUs = ticksToUs(cpuTicks(pids)) - ticksToUs(ticksBefore);
    const loadEnded = started + LOAD_SECONDS * 1000;
    // Full service: an ordinary call answered, and both gateways up.
    let recoveredAt: number | undefined;
    const probe = { file: scenario('uac-call.xml', { HOLD_MS: '0' }), args: ['-s', NUMBER] };
    while (recoveredAt === undefined && Date.now() - loadEnded < 30_000) {
      if (runSipp(probe, ['-m', '1', '-timeout', '3s'], 5) && (await gatewaysAllUp())) recoveredAt = Date.now();
      else await settle(100);
    }
    const counts = traceCounts('uac-call-overload');
    const column = (pattern: RegExp) =>
      Object.entries(counts)
        .filter(([name]) => pattern.test(name))
        .map(([, value]) => value);
    const shed = column(/^\d+_503_Recv$/).reduce((a, b) => a + b, 0);
    const answered = column(/^\d+_200_Recv$/).at(-1) ?? 0;
    const withoutRetryAfter =
      statColumn(stats, 'FailedRegexpHdrNotFound(C)') + statColumn(stats, 'FailedRegexpDoesntMatch(C)');
    const exposition = await (await fetch(`${admin}/metrics`)).text();
    const markedDown = seriesSum(exposition, 'sipdr_gateway_state_changes_total', { state: 'probing-disabled' });
    const goodput = answered / LOAD_SECONDS;
    const recovery =
      recoveredAt === undefined ? 'not within 30 s' : `${Math.max(0, (recoveredAt - loadEnded) / 1000).toFixed(1)} s`;
    console.log(
      `  offered ${rate * LOAD_SECONDS} calls: answered ${answered} (goodput ${goodput.toFixed(0)} calls/s, ${((goodput / sustained) * 100).toFixed(0)} % of the sustained rate; target >= 80 %), ` +
        `503 ${shed} (${shed === 0 ? '-' : `${(((shed - withoutRetryAfter) / shed) * 100).toFixed(0)} % with Retry-After`}), shed by the proxy ${seriesSum(exposition, 'sipdr_requests_shed_total', { method: 'INVITE' })}, ` +
        `gateways marked down ${markedDown} (target 0), proxy peak RSS ${peakRssMb(pids)} MB, ${Math.round(cpuUs / 1000)} ms CPU, full service ${recovery} after the load (target <= 2 s)`,
    );
  } finally {
    for (const server of servers) server.kill('SIGKILL');
    proxy.kill('SIGTERM');
    await settle(1000);
  }
}

async function bruteForceRun(guessesPerSecond: number): Promise<void> {
  const seconds = 10;
  const measureFromSeconds = 2;
  console.log(
    `a REGISTER brute force at ${guessesPerSecond} guesses/s from ${SIPP_PHONE} for ${seconds} s (limits on their defaults), sipp retransmitting unanswered REGISTERs:`,
  );
  const proxy = startBenchProxy(join(work, 'brute-force.db'), {});
  try {
    await settle(2500);
    const pids = processTree(proxy.pid ?? 0);
    const guesses = join(work, 'guesses.csv');
    writeFileSync(
      guesses,
      `SEQUENTIAL\n${Array.from({ length: 100 }, (_, i) => `1001;[authentication username=1001 password=guess${i}]`).join('\n')}\n`,
    );
    const stats = join(work, 'brute-force-stat.csv');
    const [command, args] = onCore(1, 'sipp', [
      `${PROXY.address}:${PROXY.port}`,
      '-sf',
      scenario('uac-register.xml'),
      '-inf',
      guesses,
      '-i',
      SIPP_PHONE,
      '-nostdin',
      '-r',
      String(guessesPerSecond),
      '-m',
      String(guessesPerSecond * seconds),
      '-l',
      String(guessesPerSecond * 4),
      '-timeout',
      `${seconds + 2}s`,
      '-trace_stat',
      '-stf',
      stats,
    ]);
    const sipp = spawn(command, args, { cwd: work, stdio: 'ignore' });
    const ended = once(sipp, 'exit');
    await settle(measureFromSeconds * 1000);
    const before = cpuTicks(pids);
    const at = performance.now();
    await settle((seconds - measureFromSeconds) * 1000);
    const cpuUs = ticksToUs(cpuTicks(pids)) - ticksToUs(before);
    const elapsedUs = (performance.now() - at) * 1000;
    const exposition = await (await fetch(`${admin}/metrics`)).text();
    await Promise.race([ended, settle(5000)]);
    sipp.kill('SIGKILL');
    const dropped = seriesSum(exposition, 'sipdr_requests_dropped_total', { reason: 'banned' });
    console.log(
      `  bans ${seriesSum(exposition, 'sipdr_bans_total')}; dropped unread as banned ${dropped}, over the rate ${seriesSum(exposition, 'sipdr_requests_dropped_total', { reason: 'rate-limited' })}; shed ${seriesSum(exposition, 'sipdr_requests_shed_total')}; ` +
        `proxy CPU from second ${measureFromSeconds} to ${seconds}: ${((cpuUs / elapsedUs) * 100).toFixed(1)} % of a core (target <= 10 %)`,
    );
  } finally {
    proxy.kill('SIGTERM');
    await settle(1000);
  }
}

if (announceSippBenchmark('overload')) {
  const given = Number(process.env.DROUTER_BENCH_SUSTAINED_RATE ?? '');
  const sustained =
    Number.isFinite(given) && given > 0
      ? given
      : await findSustainedRate(callProfile('calls to gateway 1', 'uas-answer.xml'), 100);
  if (sustained === undefined) console.log('overload benchmark: no sustained call rate found; skipped');
  else await overloadRun(sustained * 2, sustained);
  await bruteForceRun(5000);
}
