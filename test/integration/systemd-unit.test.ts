import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { CLI, REPO_ROOT } from '../support/drouter-process.js';
import { describeUnless } from '../support/skip-reason.js';

/**
 * config/sip-drouter.service, checked by systemd's own parser. The unit
 * names the installed paths (/usr/bin/node, /opt/sip-drouter); a scratch
 * copy points them at this machine's node and the tests' build, so that
 * `systemd-analyze verify` finds the executable it checks. Verify exits 0
 * on a directive it cannot parse or does not know, saying so on stderr
 * ("ignoring"): a clean unit is exit 0 with nothing on stderr.
 */
const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze';
const UNIT = readFileSync(join(REPO_ROOT, 'config', 'sip-drouter.service'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'drouter-systemd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The unit as it would run here: this node, this checkout's CLI. */
function here(unit: string): string {
  return unit.replace('ExecStart=/usr/bin/node /opt/sip-drouter/dist/cli.js ', `ExecStart=${process.execPath} ${CLI} `);
}

/** What systemd-analyze says of `unit`: an empty list when it is clean. */
function verify(unit: string, name = 'sip-drouter.service'): string[] {
  const file = join(dir, name);
  writeFileSync(file, unit);
  const run = spawnSync(SYSTEMD_ANALYZE, ['verify', '--man=no', file], { encoding: 'utf8' });
  const said = `${run.stdout}${run.stderr}`.split('\n').filter((line) => line.trim() !== '');
  return run.status === 0 ? said : [`exit ${run.status}`, ...said];
}

const directives = (unit: string) => unit.split('\n').filter((line) => /^[A-Za-z]+=/.test(line));

describeUnless(existsSync(SYSTEMD_ANALYZE) ? '' : `${SYSTEMD_ANALYZE} is not installed (Debian's systemd)`)('config/sip-drouter.service', () => {
  it('restarts always, reloads with SIGHUP to the main process, runs as its own user with its configuration file', () => {
    expect(directives(UNIT)).toEqual(
      expect.arrayContaining([
        'Restart=always',
        'ExecReload=/bin/kill -HUP $MAINPID',
        'User=sip-drouter',
        'ExecStart=/usr/bin/node /opt/sip-drouter/dist/cli.js start --config /etc/sip-drouter/config.yaml',
        'NoNewPrivileges=yes',
        'ProtectSystem=strict',
      ]),
    );
    // The scratch copy changed only the two paths, and they exist here.
    expect(here(UNIT)).not.toBe(UNIT);
    expect(directives(here(UNIT)).filter((line) => !directives(UNIT).includes(line))).toEqual([`ExecStart=${process.execPath} ${CLI} start --config /etc/sip-drouter/config.yaml`]);
    expect(existsSync(CLI)).toBe(true);
  });

  it('passes systemd-analyze verify with nothing said', () => {
    expect(verify(here(UNIT))).toEqual([]);
  });

  it('fails verify when broken: a misspelt value, an unknown directive, a missing executable, no ExecStart', () => {
    const broken = [
      here(UNIT).replace('Restart=always', 'Restart=allways'),
      here(UNIT).replace('ProtectSystem=strict', 'ProtectSytem=strict'),
      here(UNIT).replace(`ExecStart=${process.execPath} `, `ExecStart=${process.execPath}-missing `),
      here(UNIT).replace(/^ExecStart=.*$/m, ''),
    ];
    for (const unit of broken) expect(verify(unit, 'broken.service')).not.toEqual([]);
  });
});
