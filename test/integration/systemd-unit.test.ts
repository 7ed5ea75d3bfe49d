import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { CLI, freePort, runDrouter, waitForOutput } from '../support/drouter-process.js';
import { REPO_ROOT } from '../support/repo-root.js';
import { describeUnless, itUnless } from '../support/skip-reason.js';

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

const STRACE = '/usr/bin/strace';

/** The system calls a group of `systemd-analyze syscall-filter` names, its nested groups expanded. */
function syscallsOf(names: readonly string[]): Set<string> {
  const listing = spawnSync(SYSTEMD_ANALYZE, ['syscall-filter'], { encoding: 'utf8' }).stdout;
  const groups = new Map<string, string[]>();
  let group: string[] | undefined;
  for (const line of listing.split('\n')) {
    const word = line.trim();
    if (word === '' || word.startsWith('#')) continue;
    if (!line.startsWith(' ') && word.startsWith('@')) groups.set(word, (group = []));
    else group?.push(word);
  }
  const expand = (name: string): string[] => (name.startsWith('@') ? (groups.get(name) ?? []).flatMap(expand) : [name]);
  return new Set(names.flatMap(expand));
}

describeUnless(existsSync(SYSTEMD_ANALYZE) ? '' : `${SYSTEMD_ANALYZE} is not installed (Debian's systemd)`)(
  'config/sip-drouter.service',
  () => {
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
      expect(directives(here(UNIT)).filter((line) => !directives(UNIT).includes(line))).toEqual([
        `ExecStart=${process.execPath} ${CLI} start --config /etc/sip-drouter/config.yaml`,
      ]);
      expect(existsSync(CLI)).toBe(true);
    });

    it('passes systemd-analyze verify with nothing said', () => {
      expect(verify(here(UNIT))).toEqual([]);
    });

    // Static checks cannot see this: a call the filter lacks kills the process (or, with SystemCallErrorNumber, fails it).
    itUnless(existsSync(STRACE) ? '' : `${STRACE} is not installed (Debian's strace)`)(
      'allows every system call and socket family Node.js uses while drouter starts, probes, answers the admin API and stops',
      async () => {
        const filter =
          directives(UNIT)
            .find((line) => line.startsWith('SystemCallFilter='))
            ?.slice('SystemCallFilter='.length)
            .split(' ') ?? [];
        const allowed = syscallsOf(filter);
        expect(allowed.has('read')).toBe(true);
        const trace = join(dir, 'trace');
        const adminPort = await freePort();
        const run = runDrouter(
          ['start'],
          {
            DROUTER_STORE__URL: `sqlite:${join(dir, 'traced.db')}`,
            DROUTER_ADMIN__PORT: String(adminPort),
            DROUTER_SIP__ADDRESS: '127.0.0.199',
            DROUTER_PROBE__TIMEOUT_MS: '200',
          },
          [STRACE, '-f', '-qq', '-o', trace],
        );
        await waitForOutput(run, /drouter started/, 30_000);
        for (const path of ['/health', '/metrics', '/gateways'])
          expect((await fetch(`http://127.0.0.1:${adminPort}${path}`)).status).toBe(200);
        // The first probes have timed out; strace passes a signal on only to a process it did not start, so the traced node gets it itself.
        await new Promise((resolve) => setTimeout(resolve, 500));
        const nodePid = Number(/^(\d+) /.exec(readFileSync(trace, 'utf8'))?.[1]);
        process.kill(nodePid, 'SIGTERM');
        expect((await run.finished).code).toBe(0);
        const made = new Set(
          [...readFileSync(trace, 'utf8').matchAll(/^\d+ +([a-z0-9_]+)\(/gm)].map((match) => match[1] ?? ''),
        );
        expect(made.size).toBeGreaterThan(20);
        expect([...made].filter((call) => !allowed.has(call)).sort()).toEqual([]);
        // And every socket it opened is of a family RestrictAddressFamilies lets through.
        const families =
          directives(UNIT)
            .find((line) => line.startsWith('RestrictAddressFamilies='))
            ?.slice('RestrictAddressFamilies='.length)
            .split(' ') ?? [];
        const opened = new Set(
          [...readFileSync(trace, 'utf8').matchAll(/ socket(?:pair)?\((AF_[A-Z0-9]+)/g)].map((match) => match[1] ?? ''),
        );
        expect(opened.has('AF_INET')).toBe(true);
        expect([...opened].filter((family) => !families.includes(family))).toEqual([]);
      },
      60_000,
    );

    it('fails verify when broken: a misspelt value, an unknown directive, a missing executable, no ExecStart', () => {
      const broken = [
        here(UNIT).replace('Restart=always', 'Restart=allways'),
        here(UNIT).replace('ProtectSystem=strict', 'ProtectSytem=strict'),
        here(UNIT).replace(`ExecStart=${process.execPath} `, `ExecStart=${process.execPath}-missing `),
        here(UNIT).replace(/^ExecStart=.*$/m, ''),
      ];
      for (const unit of broken) expect(verify(unit, 'broken.service')).not.toEqual([]);
    });
  },
);
