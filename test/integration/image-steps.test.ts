import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { readDockerfile, type Stage } from '../support/dockerfile-steps.js';
import { childEnv, freePort } from '../support/drouter-process.js';
import { REPO_ROOT } from '../support/repo-root.js';
import { describeUnless } from '../support/skip-reason.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The image without a Docker engine (none runs on the developers' machines
 * or in CI): the Dockerfile's stages carried out in a scratch directory as
 * dockerfile-ast reads them, each stage's WORKDIR (/app) being a directory
 * of its own. COPY copies from the repository (the build context) or from
 * the build stage's directory; RUN runs with /bin/sh -c and the stage's ENV
 * (npm ci, better-sqlite3 compiled from source, tsc, npm prune, the addon
 * check), but for the two NOT_RUN below. Then the CMD starts with the
 * image's ENV, alone and with docker-compose.example.yml's environment, and
 * the HEALTHCHECK's command runs against it. What differs from a container:
 * the machine's Debian and Node 20 instead of node:20-bookworm-slim's, the
 * test's user instead of `node`, npm_config_nodedir pointing at this
 * machine's Node headers, and the ports and SIP address below, which a
 * server beside the tests may hold.
 *
 * Minutes of work: runs with DROUTER_TEST_IMAGE=1 (.ci/run sets it).
 */
const NOT_ASKED =
  process.env.DROUTER_TEST_IMAGE === '1'
    ? ''
    : 'DROUTER_TEST_IMAGE is not 1: it takes minutes (npm ci, better-sqlite3 from source, tsc); .ci/run sets it';

const SIP_ALONE = '127.0.0.226';
const SIP_COMPOSE = '127.0.0.227';
const BUILD_MS = 20 * 60_000;

/** RUN steps a machine without Docker cannot carry out as they are, and what the test does instead. */
const NOT_RUN: readonly { pattern: RegExp; why: string; instead(stageDir: string): void }[] = [
  {
    pattern: /^apt-get /,
    why: 'installs python3, make and g++ for node-gyp: the test requires them on this machine instead',
    instead: () => {
      const missing = ['python3', 'make', 'g++'].filter(
        (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0,
      );
      if (missing.length > 0)
        throw new Error(`the build stage needs ${missing.join(', ')} (apt-get install python3 make g++)`);
    },
  },
  {
    pattern: /chown node:node/,
    why: "the image's node user does not exist here: the directory is made, owned by the test's user",
    instead: (stageDir) => mkdirSync(join(stageDir, 'data'), { recursive: true }),
  },
];

/** A path of the Dockerfile inside a stage (absolute under its WORKDIR, or relative to it) as a path of the stage's directory. */
function inStage(stage: Stage, stageDir: string, path: string): string {
  if (!isAbsolute(path)) return join(stageDir, path);
  const within = relative(stage.workdir, path);
  if (within.startsWith('..'))
    throw new Error(`${path} is outside the stage's WORKDIR ${stage.workdir}: not carried out here`);
  return join(stageDir, within);
}

/** Where the image's headers are (/usr/local in node:20-bookworm-slim), this machine's are: beside its node binary. */
function localValue(name: string, value: string): string {
  return name === 'npm_config_nodedir' ? dirname(dirname(process.execPath)) : value;
}

interface Built {
  stageDirs: Map<string, string>;
  runtime: string;
  env: Record<string, string>;
  healthcheck: string;
  cmd: string[];
}

function build(scratch: string): Built {
  const image = readDockerfile(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
  const stageDirs = new Map<string, string>();
  let env: Record<string, string> = {};
  let runtime = '';
  for (const stage of image.stages) {
    const dir = join(scratch, stage.name);
    mkdirSync(dir, { recursive: true });
    stageDirs.set(stage.name, dir);
    env = {};
    runtime = dir;
    for (const step of stage.steps) {
      if (step.kind === 'env') env[step.name] = localValue(step.name, step.value);
      else if (step.kind === 'copy') {
        const fromStage = step.from === undefined ? undefined : image.stages.find((each) => each.name === step.from);
        for (const source of step.sources) {
          const from = fromStage
            ? inStage(fromStage, stageDirs.get(fromStage.name) ?? '', source)
            : join(REPO_ROOT, source);
          const destination = inStage(stage, dir, step.destination);
          cpSync(
            from,
            step.destination.endsWith('/') ? join(destination, source.split('/').at(-1) ?? source) : destination,
            { recursive: true },
          );
        }
      } else {
        const skipped = NOT_RUN.find((each) => each.pattern.test(step.shell));
        if (skipped) {
          skipped.instead(dir);
          continue;
        }
        const run = spawnSync('/bin/sh', ['-c', step.shell], {
          cwd: dir,
          env: childEnv(env),
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        });
        if (run.status !== 0)
          throw new Error(
            `stage ${stage.name}: RUN ${step.shell} exited ${run.status}:\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`,
          );
      }
    }
  }
  return { stageDirs, runtime, env, healthcheck: image.healthcheck, cmd: image.cmd };
}

interface Container {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** The CMD in the runtime stage's directory with the container's environment: the image's ENV and what `docker run -e` or compose add. */
function startCmd(built: Built, env: Record<string, string>): Container {
  const [command = '', ...args] = built.cmd;
  const child = spawn(command === 'node' ? process.execPath : command, args, {
    cwd: built.runtime,
    env: containerEnv(built, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** What a container's process sees: PATH and HOME, the image's ENV, then `-e` / compose's environment. */
function containerEnv(built: Built, env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: built.runtime, ...built.env, ...env };
}

/** The HEALTHCHECK as Docker runs a shell-form one, in the container: /bin/sh -c, the WORKDIR's paths being the runtime stage's directory. */
function healthcheck(built: Built, env: Record<string, string>): { status: number | null; output: string } {
  const command = built.healthcheck.replaceAll('/app/', `${built.runtime}/`);
  const run = spawnSync('/bin/sh', ['-c', command], {
    cwd: built.runtime,
    env: containerEnv(built, env),
    encoding: 'utf8',
    timeout: 15_000,
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

async function answered(url: string, token?: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(5000),
  });
  return { status: response.status, text: await response.text() };
}

async function healthy(container: Container, adminPort: number): Promise<void> {
  await waitFor(
    `the image's CMD to answer /health on 127.0.0.1:${adminPort}`,
    30_000,
    async () => ((await answered(`http://127.0.0.1:${adminPort}/health`)).status === 200 ? true : undefined),
    {
      detail: () => `its output:\n${container.output()}`,
      pollMs: 250,
    },
  );
}

/** docker-compose.example.yml's environment for its one service, `${NAME:?message}` replaced as compose replaces it. */
function composeEnvironment(values: Readonly<Record<string, string>>): Record<string, string> {
  const compose = parseYaml(readFileSync(join(REPO_ROOT, 'docker-compose.example.yml'), 'utf8')) as {
    services: Record<string, { environment: Record<string, string> }>;
  };
  const service = compose.services.drouter;
  if (!service) throw new Error('docker-compose.example.yml: no service drouter');
  return Object.fromEntries(
    Object.entries(service.environment).map(([name, value]) => [
      name,
      String(value).replace(/\$\{(\w+):\?[^}]*\}/g, (_whole, variable: string) => {
        const given = values[variable];
        if (given === undefined) throw new Error(`docker-compose.example.yml needs ${variable}`);
        return given;
      }),
    ]),
  );
}

describeUnless(NOT_ASKED)("the Dockerfile's steps carried out without a Docker engine", () => {
  let scratch: string;
  let built: Built;

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'drouter-image-'));
    built = build(scratch);
  }, BUILD_MS);
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it('leaves the runtime stage the code, the pruned dependencies (no dev ones) and the finished better-sqlite3 addon only', () => {
    const modules = join(built.runtime, 'node_modules');
    expect(
      ['dist/cli.js', 'config/default.yaml', 'sql/02-drouting.sql', 'package.json'].filter(
        (file) => !existsSync(join(built.runtime, file)),
      ),
    ).toEqual([]);
    expect(['typescript', 'vitest', 'dockerfile-utils'].filter((dev) => existsSync(join(modules, dev)))).toEqual([]);
    expect([
      existsSync(join(modules, 'better-sqlite3/build/Release/better_sqlite3.node')),
      existsSync(join(modules, 'better-sqlite3/deps')),
    ]).toEqual([true, false]);
  });

  it('the image alone: the admin API on loopback without a token; the HEALTHCHECK passes, and fails with 1 once the server is gone', async () => {
    const adminPort = await freePort();
    // The test machine's own: a server beside the tests may hold 8080 and 127.0.0.1:5060.
    const env = {
      DROUTER_ADMIN__PORT: String(adminPort),
      DROUTER_SIP__ADDRESS: SIP_ALONE,
      DROUTER_SIP__PORT: String(await freePort()),
    };
    const container = startCmd(built, env);
    try {
      await healthy(container, adminPort);
      const check = healthcheck(built, env);
      expect([check.status, check.output], container.output()).toEqual([
        0,
        expect.stringContaining(`healthy: SIP udp+tcp ${SIP_ALONE}:`),
      ]);
      expect((await answered(`http://127.0.0.1:${adminPort}/gateways`)).status).toBe(200);
    } finally {
      await container.stop();
    }
    const gone = healthcheck(built, env);
    expect([gone.status, gone.output]).toEqual([1, expect.stringContaining('DROUTER_ERR_ADMIN_UNREACHABLE')]);
  });

  it("with docker-compose.example.yml's environment: admin on every address with a token, the HEALTHCHECK passes, /health and /metrics answer without the token, nothing else does", async () => {
    const token = 'image-steps-token';
    const adminPort = await freePort();
    const env: Record<string, string> = {
      ...composeEnvironment({ DROUTER_ADMIN_TOKEN: token }),
      DROUTER_ADMIN__PORT: String(adminPort),
      DROUTER_SIP__ADDRESS: SIP_COMPOSE,
      DROUTER_SIP__PORT: String(await freePort()),
    };
    expect(env.DROUTER_ADMIN__ADDRESS).toBe('0.0.0.0');
    const container = startCmd(built, env);
    try {
      await healthy(container, adminPort);
      const check = healthcheck(built, env);
      expect([check.status, check.output], container.output()).toEqual([0, expect.stringMatching(/^healthy: /)]);
      const base = `http://127.0.0.1:${adminPort}`;
      const [metrics, health, gateways, withToken] = await Promise.all([
        answered(`${base}/metrics`),
        answered(`${base}/health`),
        answered(`${base}/gateways`),
        answered(`${base}/gateways`, token),
      ]);
      expect([metrics.status, metrics.text.includes('sipdr_gateway_up{gateway="1"}')]).toEqual([200, true]);
      expect([health.status, JSON.parse(health.text)]).toEqual([200, { status: 'ok' }]);
      expect([gateways.status, withToken.status]).toEqual([401, 200]);
    } finally {
      await container.stop();
    }
  });
});
