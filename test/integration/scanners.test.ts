import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/drouter-process.js';
import { startTestServer, type TestServer } from '../support/drouter-server.js';

/**
 * sipvicious, the scanner most attacks start with (Debian `sipvicious`):
 * `svwar` guesses extensions from how a server answers each one. On the
 * example data (peers 1001–1004) it must learn nothing: every INVITE
 * without credentials gets the same 407, whoever it names (the REGISTER
 * side, the same 401 for every user, is registrar.test.ts's). Skipped without sipvicious, unless DROUTER_TEST_SIPVICIOUS is
 * set (as .ci/run sets it): then missing is a failure.
 */
function sipviciousAvailable(): boolean {
  const found = spawnSync('svwar', ['--version']).error === undefined;
  if (!found && process.env.DROUTER_TEST_SIPVICIOUS) throw new Error('DROUTER_TEST_SIPVICIOUS is set but svwar is not installed (apt-get install sipvicious)');
  return found;
}

const PROXY = '127.0.0.97';
const SCANNER = '127.0.0.98';

describe.runIf(sipviciousAvailable())('svwar against the proxy on its default (no trusted sources)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(PROXY, { auth: { trustedSources: [] } });
  });
  afterAll(() => server?.close());

  async function svwar(args: readonly string[]): Promise<string> {
    // -b/-x: the scanner's loopback address, in its Via too. -P: a port of its own, for it listens on
    // every address (its -b did not take here), and its default, 5060, is every gateway's in the other tests.
    const localPort = String(await freePort());
    const run = await promisify(execFile)('svwar', [...args, '-p', String(server.sip.port), '-b', SCANNER, '-x', SCANNER, '-P', localPort, server.sip.address], { encoding: 'utf8', timeout: 60_000 });
    return `${run.stdout}\n${run.stderr}`;
  }

  it('gives up on an INVITE scan: a made-up extension is challenged as a real one is', async () => {
    const report = await svwar(['-m', 'INVITE', '-e', '1000-1010']);
    expect(report).toMatch(/SIP server replied with an authentication request for an unknown extension/);
    expect(report).toMatch(/found nothing/);
    expect(report).not.toMatch(/\| Extension/);
  }, 90_000);

  it('finds none of the users with --force either', async () => {
    const report = await svwar(['--force', '-m', 'INVITE', '-e', '1001-1004']);
    expect(report).toMatch(/407 Proxy Authentication Required/);
    expect(report).toMatch(/found nothing/);
    expect(report).not.toMatch(/\| Extension/);
  }, 90_000);
});
