import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminServer } from '../../src/admin/admin-server.js';
import { startAdminFront } from '../../src/cluster/admin-front.js';
import { DrouterError } from '../../src/errors.js';
import { captureLog } from '../support/log-capture.js';
import { freePort, runDrouter } from '../support/drouter-process.js';
import { REPO_ROOT } from '../support/repo-root.js';

/** `drouter --version`, the help texts, and a start whose admin port is taken. */
describe('drouter for the operator', () => {
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  let dir: string;
  let taken: Server;
  let takenPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'drouter-operations-'));
    taken = createServer();
    taken.listen(await freePort(), '127.0.0.1');
    await once(taken, 'listening');
    const address = taken.address();
    takenPort = typeof address === 'object' && address ? address.port : 0;
  });
  afterAll(() => {
    taken.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--version and -V print the version of package.json and of Node.js, exit 0', async () => {
    for (const flag of ['--version', '-V']) {
      const finished = await runDrouter([flag], {}).finished;
      expect(finished.code).toBe(0);
      expect(finished.stdout).toBe(`drouter ${version} (Node.js ${process.version})\n`);
    }
  });

  it("the exit codes are in the top-level help once, and in no sub-command's help", async () => {
    const top = await runDrouter(['--help'], {}).finished;
    expect(top.code).toBe(0);
    expect(top.stdout.match(/Exit codes:/g)).toHaveLength(1);
    expect(top.stdout).toContain('-V, --version');
    for (const command of [['gateways'], ['route'], ['gateway', 'disable'], ['ha', 'status'], ['migrate']]) {
      const help = await runDrouter([...command, '--help'], {}).finished;
      expect(help.code, command.join(' ')).toBe(0);
      expect(help.stdout).toContain(`Usage: drouter ${command.join(' ')}`);
      expect(help.stdout, command.join(' ')).not.toContain('Exit codes');
    }
  });

  it('a start whose admin port is taken exits 2 with one line naming address, port and what to change', async () => {
    const finished = await runDrouter(['start'], {
      DROUTER_STORE__URL: `sqlite:${join(dir, 'taken.db')}`,
      DROUTER_ADMIN__PORT: String(takenPort),
      DROUTER_SIP__PORT: String(await freePort()),
    }).finished;
    expect(finished.code).toBe(2);
    expect(finished.stderr).toBe(
      `drouter: DROUTER_ERR_ADMIN_BIND: cannot listen for the admin API on 127.0.0.1:${takenPort}: the port is taken (another drouter or another program listens there); set admin.port (DROUTER_ADMIN__PORT) or admin.address to a free address and port, or stop what holds it\n`,
    );
  });

  it('the admin server of a process and the admin front of --workers N say the same when their port is taken', async () => {
    const config = { address: '127.0.0.1', port: takenPort, token: '', allowedHosts: [], openReads: [] };
    const pool = { ready: () => [], status: () => [], metrics: async () => ({ contentType: 'text/plain', text: '' }) };
    for (const start of [
      () => startAdminServer(config, [], captureLog().log),
      () => startAdminFront(config, pool, captureLog().log),
    ]) {
      const error = await start().then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error).toBeInstanceOf(DrouterError);
      expect(error).toMatchObject({
        code: 'DROUTER_ERR_ADMIN_BIND',
        message: expect.stringContaining(
          `cannot listen for the admin API on 127.0.0.1:${takenPort}: the port is taken`,
        ) as unknown,
      });
    }
  });
});
