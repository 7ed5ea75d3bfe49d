import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { isLoopback } from '../../src/config/value-checks.js';
import { readDockerfile } from '../support/dockerfile-steps.js';
import { REPO_ROOT } from '../support/repo-root.js';
import { describeUnless } from '../support/skip-reason.js';

/**
 * The container files checked with real tools, no Docker engine being at
 * hand: the Dockerfile linted by dockerfile-utils (the checks of the VS
 * Code Docker extension's language server), its COPY sources present and
 * not in .dockerignore; the compose files read by docker-compose (Debian's
 * 1.29, `config`: the Compose specification's schema, the `${VAR:?}`
 * interpolation, the merge of the x- anchors), and every sip-drouter
 * service's resolved environment (and mounted configuration file) loaded
 * as `drouter start` loads it. test/integration/image-steps.test.ts carries
 * the image's steps out.
 */

const DOCKERFILE = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const COMPOSE_FILES = ['docker-compose.example.yml', 'docker-compose.production.example.yml'];
/** The secrets the compose files require, as an operator exports them. */
const SECRETS = {
  DROUTER_ADMIN_TOKEN: 'compose-token',
  MARIADB_PASSWORD: 'db-password',
  MARIADB_ROOT_PASSWORD: 'root-password',
  DRACHTIO_SECRET: 'drachtio-secret',
};

function composeMissing(): string {
  if (spawnSync('docker-compose', ['version']).status === 0) return '';
  if (process.env.DROUTER_TEST_COMPOSE)
    throw new Error('DROUTER_TEST_COMPOSE is set but docker-compose is missing (apt-get install docker-compose)');
  return 'docker-compose is missing (apt-get install docker-compose)';
}

describe('the Dockerfile', () => {
  it('lints clean with dockerfile-utils', () => {
    const problems = validate(DOCKERFILE).map(
      (diagnostic) =>
        `line ${diagnostic.range.start.line + 1}: ${typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value}`,
    );
    expect(problems).toEqual([]);
  });

  it('copies only what the build context holds and .dockerignore leaves in', () => {
    const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    const sources = readDockerfile(DOCKERFILE).stages.flatMap((stage) =>
      stage.steps.flatMap((step) => (step.kind === 'copy' && step.from === undefined ? step.sources : [])),
    );
    expect(sources.length).toBeGreaterThan(0);
    expect(
      sources.filter(
        (source) => !existsSync(join(REPO_ROOT, source)) || ignored.includes(source.split('/')[0] ?? source),
      ),
    ).toEqual([]);
  });
});

interface ComposeService {
  image?: string;
  environment?: Record<string, string>;
  volumes?: string[];
}

/** `docker-compose config`: the file as compose reads it, validated, interpolated and merged; exit status and output. */
function composeConfig(
  file: string,
  env: Record<string, string>,
): { status: number | null; stdout: string; stderr: string } {
  return spawnSync('docker-compose', ['-f', file, 'config'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
  });
}

describeUnless(composeMissing())('the compose files, as docker-compose reads them', () => {
  it.each(COMPOSE_FILES)('%s is valid, and refuses to start without its secrets', (file) => {
    const valid = composeConfig(file, SECRETS);
    expect([valid.status, valid.stderr]).toEqual([0, '']);
    const without = composeConfig(file, {});
    expect(without.status).not.toBe(0);
    expect(without.stderr).toContain('Missing mandatory value');
  });

  it.each(COMPOSE_FILES)(
    '%s: each sip-drouter service starts with its environment and configuration file; beyond loopback with a token and /health, /metrics open',
    (file) => {
      const resolved = parseYaml(composeConfig(file, SECRETS).stdout) as { services: Record<string, ComposeService> };
      const nodes = Object.entries(resolved.services).filter(([, service]) => service.image?.startsWith('sip-drouter'));
      expect(nodes.length).toBeGreaterThan(0);
      for (const [name, service] of nodes) {
        const env = service.environment ?? {};
        // A configuration file named by DROUTER_CONFIG is the one the service mounts there.
        const mounts = new Map(
          (service.volumes ?? [])
            .map((volume) => volume.split(':'))
            .map(([source = '', target = '']) => [target, source]),
        );
        const configFile = env.DROUTER_CONFIG === undefined ? undefined : mounts.get(env.DROUTER_CONFIG);
        if (env.DROUTER_CONFIG !== undefined)
          expect(configFile, `${name}: DROUTER_CONFIG ${env.DROUTER_CONFIG} is not mounted`).toBeDefined();
        const config = loadConfig({ configFile, defaultFile: join(REPO_ROOT, 'config', 'default.yaml'), env });
        if (!isLoopback(config.admin.address)) {
          expect([name, config.admin.token, config.admin.openReads]).toEqual([
            name,
            SECRETS.DROUTER_ADMIN_TOKEN,
            ['/health', '/metrics'],
          ]);
        }
      }
    },
  );
});
