import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCENARIOS = join(import.meta.dirname, '..', 'sipp');

/** '' where sipp is there; else why a suite cannot run, or a failure where CI said it must be there (DROUTER_TEST_SIPP set). */
export function sippMissing(): string {
  // `sipp -v` prints its version and exits 1; only a missing binary is "not available".
  if (spawnSync('sipp', ['-v']).error === undefined) return '';
  if (process.env.DROUTER_TEST_SIPP)
    throw new Error('DROUTER_TEST_SIPP is set but sipp is not installed (apt-get install sip-tester)');
  return 'sipp is not installed (apt-get install sip-tester)';
}

/** Writes scenario `name` of test/sipp into `dir` with its placeholders replaced; returns the written file. */
export function renderScenario(name: string, replace: Readonly<Record<string, string>>, dir: string): string {
  let text = readFileSync(join(SCENARIOS, name), 'utf8');
  for (const [placeholder, value] of Object.entries(replace)) text = text.split(placeholder).join(value);
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The messages sipp's `-trace_msg` file `file` says it received, in order, as they came (CRLF lines). */
function receivedMessages(file: string): string[] {
  if (!existsSync(file)) return [];
  // Each entry: a line of dashes and the time, "UDP message received [N] bytes :", a blank line, the message.
  return readFileSync(file, 'utf8')
    .split(/^-{20,} .*\n/m)
    .filter((entry) => /^\w+ message received /.test(entry))
    .map((entry) => entry.slice(entry.indexOf('\n\n') + 2).replace(/\n+$/, '\n'));
}

/** sipp's arguments to trace the messages it sends and receives into `dir`, and the reader of what it received. */
function messageTrace(dir: string): { args: string[]; received: () => string[] } {
  const file = join(dir, 'messages.log');
  return { args: ['-trace_msg', '-message_file', file], received: () => receivedMessages(file) };
}

export interface SippRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The messages sipp received, in order. */
  received: string[];
}

/**
 * Runs bounded sipp calls (one by default) as the phone: scenario from test/sipp with
 * its placeholders (STATUS, CALLER) filled, from `localIp`, to the proxy.
 * `answerIncoming` loads a scenario for requests outside that call (sipp's
 * out-of-call scenario), so a registered phone can answer a call to it.
 */
export async function sippCall(options: {
  scenario: 'uac-call.xml' | 'uac-call-auth.xml' | 'uac-call-webrtc.xml' | 'uac-rejected.xml' | 'phone-register.xml';
  answerIncoming?: 'uas-answer.xml';
  localIp: string;
  target: { address: string; port: number };
  service: string;
  replace?: Record<string, string>;
  timeoutSeconds?: number;
  /** Calls to place (default 1), at `ratePerSecond` (sipp's default 10/s). */
  calls?: number;
  ratePerSecond?: number;
}): Promise<SippRun> {
  const dir = mkdtempSync(join(tmpdir(), 'drouter-sipp-'));
  const scenario = renderScenario(options.scenario, options.replace ?? {}, dir);
  const outOfCall = options.answerIncoming ? ['-oocsf', join(SCENARIOS, options.answerIncoming)] : [];
  const trace = messageTrace(dir);
  const args = [
    `${options.target.address}:${options.target.port}`,
    '-sf',
    scenario,
    '-s',
    options.service,
    '-i',
    options.localIp,
    '-m',
    String(options.calls ?? 1),
    ...(options.ratePerSecond === undefined ? [] : ['-r', String(options.ratePerSecond)]),
    '-nostdin',
    '-timeout',
    `${options.timeoutSeconds ?? 15}s`,
    '-timeout_error',
    '-max_retrans',
    '3',
    ...outOfCall,
    ...trace.args,
  ];
  try {
    return await new Promise<SippRun>((resolve) => {
      execFile(
        'sipp',
        args,
        { cwd: dir, timeout: ((options.timeoutSeconds ?? 15) + 5) * 1000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
          resolve({ code, stdout, stderr, received: trace.received() });
        },
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A sipp stand-in Asterisk, running until stopped (or `lifetimeSeconds` at most). */
export interface SippGateway {
  /** The requests it received so far (its OPTIONS probes left out), in order. */
  requests(method: string): string[];
  stop(): Promise<void>;
}

/**
 * sipp as a gateway on `address`:5060 with a UAS scenario of test/sipp,
 * answering OPTIONS with 200 (`-aa`) as Asterisk answers probes.
 */
export async function startSippGateway(
  address: string,
  scenario: 'uas-answer.xml' | 'uas-503.xml',
  lifetimeSeconds = 60,
): Promise<SippGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'drouter-sipp-gateway-'));
  const trace = messageTrace(dir);
  const child: ChildProcess = spawn(
    'sipp',
    [
      '-sf',
      join(SCENARIOS, scenario),
      '-i',
      address,
      '-p',
      '5060',
      '-aa',
      '-nostdin',
      '-timeout',
      `${lifetimeSeconds}s`,
      ...trace.args,
    ],
    { stdio: 'ignore' },
  );
  // sipp binds at once; give it that moment before anything is sent to it.
  await new Promise((resolve) => setTimeout(resolve, 300));
  if (child.exitCode !== null) throw new Error(`sipp gateway on ${address}:5060 exited at once with ${child.exitCode}`);
  return {
    requests: (method) => trace.received().filter((message) => message.startsWith(`${method} `)),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
