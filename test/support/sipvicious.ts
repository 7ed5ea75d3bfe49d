import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The sipvicious tools the tests run (Debian `sipvicious`, 0.3.3). */
export type SipviciousTool = 'svmap' | 'svwar' | 'svcrack';

const TOOLS: readonly SipviciousTool[] = ['svmap', 'svwar', 'svcrack'];
const RUNNER = join(import.meta.dirname, 'sipvicious-run.py');

/** '' where sipvicious is there; else why a suite cannot run, or a failure where CI said it must be there (DROUTER_TEST_SIPVICIOUS set, as .ci/run sets it). */
export function sipviciousMissing(): string {
  if (TOOLS.every((tool) => spawnSync(tool, ['--version']).error === undefined)) return '';
  if (process.env.DROUTER_TEST_SIPVICIOUS)
    throw new Error(
      `DROUTER_TEST_SIPVICIOUS is set but ${TOOLS.join('/')} are not all installed (apt-get install sipvicious)`,
    );
  return `${TOOLS.join('/')} are not all installed (apt-get install sipvicious)`;
}

export interface SipviciousRun {
  /** What the tool printed, stdout then stderr (its findings, its log). */
  output: string;
  /** Datagrams the tool received, from anyone: 0 is "no answer at all". */
  received: number;
}

/**
 * Runs `tool` with `args` from `from` (its socket bound there: svwar and svcrack
 * ignore their -b) through sipvicious-run.py, which counts what the tool
 * received and can give it another `userAgent` than its `friendly-scanner`.
 * Fails when the tool runs past `timeoutMs` or exits with an error.
 */
export async function runSipvicious(
  tool: SipviciousTool,
  args: readonly string[],
  options: { from: string; userAgent?: string; timeoutMs: number },
): Promise<SipviciousRun> {
  const script = toolScript(tool);
  // The runner goes into the tool's own interpreter (its #! line), where its `sipvicious` package is.
  const [interpreter = '', ...interpreterArgs] = (/^#!(.*)/.exec(readFileSync(script, 'utf8'))?.[1] ?? '')
    .trim()
    .split(/\s+/);
  if (interpreter === '') throw new Error(`${script} (${tool}) has no #! line naming its Python`);
  const runnerArgs = [...interpreterArgs, RUNNER, options.from, options.userAgent ?? '-', script, ...args];
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(
      interpreter,
      runnerArgs,
      { encoding: 'utf8', timeout: options.timeoutMs, killSignal: 'SIGKILL' },
      (error, out, err) => {
        if (!error) resolve({ stdout: out, stderr: err });
        else
          reject(
            new Error(
              `${tool} ${args.join(' ')} from ${options.from}: ${error.killed ? `still running after ${options.timeoutMs} ms, killed` : error.message}\n${out}\n${err}`,
            ),
          );
      },
    );
  });
  const received = [...stderr.matchAll(/^RECEIVED \d+ FROM /gm)].length;
  return { output: `${stdout}\n${stderr}`, received };
}

/** The tool's script itself (Debian links /usr/bin/svmap to /usr/share/sipvicious/sipvicious_svmap). */
function toolScript(tool: SipviciousTool): string {
  const onPath = (process.env.PATH ?? '')
    .split(delimiter)
    .map((dir) => join(dir, tool))
    .find((file) => existsSync(file));
  if (onPath === undefined) throw new Error(`${tool} is not on the PATH (apt-get install sipvicious)`);
  return realpathSync(onPath);
}
