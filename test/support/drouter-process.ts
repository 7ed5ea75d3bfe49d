import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from './repo-root.js';

/**
 * Where `npm test` builds the CLI (`npm run build:test`): not dist/, which a
 * running `npm start` loads its modules from, so a rebuild under the tests
 * never changes the files of a server beside them.
 */
const TEST_BUILD = join(REPO_ROOT, 'build-test');
/** The built CLI, as `npm start` and the Dockerfile run it, from the tests' own build. */
export const CLI = join(TEST_BUILD, 'cli.js');

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningDrouter {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process exits. */
  finished: Promise<Finished>;
}

/**
 * Below the kernel's ephemeral range (32768–60999 here): a port the kernel
 * picked for us (listen on port 0) could be handed next to any outgoing
 * connection (a Redis or MariaDB client, a worker's hand-off socket) before
 * the test's server binds it, which CI saw as EADDRINUSE. Ports here are
 * only ever taken by a test that picked them.
 */
const TEST_PORTS = { from: 20_000, to: 32_000 };

async function bindable(port: number): Promise<boolean> {
  const server = createServer();
  const udp = createSocket('udp4');
  try {
    server.listen(port, '127.0.0.1');
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([error]) => Promise.reject(error as Error)),
    ]);
    udp.bind(port, '127.0.0.1');
    await Promise.race([once(udp, 'listening'), once(udp, 'error').then(([error]) => Promise.reject(error as Error))]);
    return true;
  } catch {
    return false;
  } finally {
    udp.close();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A port on 127.0.0.1 that nothing listens on right now, over TCP or UDP. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = TEST_PORTS.from + Math.floor(Math.random() * (TEST_PORTS.to - TEST_PORTS.from));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port on 127.0.0.1 between ${TEST_PORTS.from} and ${TEST_PORTS.to} after 100 tries`);
}

/** Environment for a child: the parent's, minus DROUTER_ keys that would leak into the run. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('DROUTER_')) env[name] = value;
  }
  return { ...env, ...extra };
}

/** The newest modification time of the files under `dir`, in ms. */
function newestChange(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile())
      .map((entry) => statSync(join(entry.parentPath, entry.name)).mtimeMs),
  );
}

let builtChecked = false;

/** Fails when the tests' build is missing or older than src/: the children would run other code than the one under test. */
function checkTestBuild(): void {
  if (builtChecked) return;
  let builtAt: number;
  try {
    builtAt = statSync(CLI).mtimeMs;
  } catch {
    throw new Error(`${CLI} is missing: run \`npm run build:test\` (npm test runs it first)`);
  }
  if (newestChange(join(REPO_ROOT, 'src')) > builtAt)
    throw new Error(`${TEST_BUILD} is older than src/: run \`npm run build:test\` (npm test runs it first)`);
  builtChecked = true;
}

/**
 * An admin port where no server is: IANA-unassigned and privileged (only
 * root may listen there, and nothing does), and not one of the ports fetch
 * refuses outright (it refuses 1, tcpmux, as a "bad port"), so the CLI meets
 * a refused connection, as at a stopped server.
 */
const NO_SERVER_PORT = '4';

/**
 * The environment that keeps a command away from servers the test did not
 * start: `npm start` may run beside the tests on its defaults (admin
 * 127.0.0.1:8080, SIP 127.0.0.1:5060). A command that asks the admin API
 * gets NO_SERVER_PORT, so it finds no server, unless the test names one
 * (DROUTER_ADMIN__PORT, --url). A `drouter start` must be
 * given an admin port of its own, and a SIP address or port (the drachtio
 * engine's SIP is its drachtio-server's). A --config file (or DROUTER_CONFIG)
 * names its own.
 */
function awayFromOtherServers(args: readonly string[], env: Record<string, string>): Record<string, string> {
  if (args.includes('--config') || env.DROUTER_CONFIG !== undefined) return env;
  if (args[0] === 'start') {
    const sipOfItsOwn =
      env.DROUTER_SIP__ENGINE === 'drachtio' ||
      env.DROUTER_SIP__PORT !== undefined ||
      (env.DROUTER_SIP__ADDRESS ?? '127.0.0.1') !== '127.0.0.1';
    const missing = [
      ...(env.DROUTER_ADMIN__PORT === undefined ? ['DROUTER_ADMIN__PORT'] : []),
      ...(sipOfItsOwn ? [] : ['DROUTER_SIP__ADDRESS or DROUTER_SIP__PORT']),
    ];
    if (missing.length > 0)
      throw new Error(
        `runDrouter(['start', …]) needs ${missing.join(' and ')} of the test's own: the defaults are those of an \`npm start\` that may run beside the tests`,
      );
    return env;
  }
  if (env.DROUTER_ADMIN__PORT !== undefined || args.includes('--url')) return env;
  return { ...env, DROUTER_ADMIN__PORT: NO_SERVER_PORT };
}

/**
 * `drouter ARGS` as a child process. `launcher` goes before the node
 * binary: the HA lab runs nodes with `ip netns exec NAMESPACE`.
 */
export function runDrouter(
  args: string[],
  env: Record<string, string>,
  launcher: readonly string[] = [],
): RunningDrouter {
  checkTestBuild();
  const [command = process.execPath, ...commandArgs] = [...launcher, process.execPath, CLI, ...args];
  const child = spawn(command, commandArgs, {
    cwd: REPO_ROOT,
    env: childEnv(awayFromOtherServers(args, env)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const finished = new Promise<Finished>((resolve) => {
    child.on('exit', (code, signal) => {
      // Let the pipes drain what the process wrote last.
      setImmediate(() => resolve({ code, signal, stdout, stderr }));
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, finished };
}

/** Waits until stdout holds a line matching `pattern`, or the process dies, or time runs out. */
export async function waitForOutput(run: RunningDrouter, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const line = run
      .stdout()
      .split('\n')
      .find((l) => pattern.test(l));
    if (line) return line;
    if (run.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `no output matching ${pattern} (exit ${run.child.exitCode}); stdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`,
  );
}
