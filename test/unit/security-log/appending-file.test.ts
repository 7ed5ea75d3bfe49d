import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppendingFile, type FileTrouble } from '../../../src/security-log/appending-file.js';

/** The security log's file: appended to without waiting, reopened for logrotate, and a failure said once. */

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within 2 s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('AppendingFile', () => {
  let dir: string;
  let troubles: FileTrouble[];
  const report = (trouble: FileTrouble) => void troubles.push(trouble);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'drouter-security-'));
    troubles = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('appends lines to what the file held, and flushes them at close', async () => {
    const path = join(dir, 'security.log');
    const first = new AppendingFile(path, report);
    first.append('one');
    await first.close();
    const second = new AppendingFile(path, report);
    second.append('two');
    second.append('three');
    await second.close();
    expect(readFileSync(path, 'utf8')).toBe('one\ntwo\nthree\n');
    expect(troubles).toEqual([]);
  });

  it('refuses to start on a file it cannot open, naming the key and the path', () => {
    expect(() => new AppendingFile(join(dir, 'missing', 'security.log'), report)).toThrow(
      /^log\.securityFile = ".*missing\/security\.log": cannot be opened for appending \(ENOENT/,
    );
  });

  it('writes to the new file after a reopen (logrotate moved the old one), the old lines staying in the old', async () => {
    const path = join(dir, 'security.log');
    const file = new AppendingFile(path, report);
    file.append('before rotation');
    await until(() => readFileSync(path, 'utf8') !== '', 'the first line written');
    renameSync(path, `${path}.1`);
    file.append('still to the moved file');
    file.reopen();
    file.append('after rotation');
    await file.close();
    expect(readFileSync(`${path}.1`, 'utf8')).toBe('before rotation\nstill to the moved file\n');
    expect(readFileSync(path, 'utf8')).toBe('after rotation\n');
  });

  it('reports a failing file once, however many lines are lost, and the lost lines once it is written again', async () => {
    const folder = join(dir, 'rotated');
    mkdirSync(folder);
    const path = join(folder, 'security.log');
    const file = new AppendingFile(path, report);
    rmSync(folder, { recursive: true });
    file.reopen();
    await until(() => troubles.length > 0, 'the failure reported');
    for (let i = 0; i < 1000; i++) file.append(`lost ${i}`);
    expect(troubles).toHaveLength(1);
    expect(troubles[0]).toMatchObject({
      kind: 'failed',
      error: expect.objectContaining({ code: 'ENOENT' }) as unknown,
    });
    mkdirSync(folder);
    file.reopen();
    file.append('written again');
    await file.close();
    expect(troubles[1]).toEqual({ kind: 'recovered', lost: 1000 });
    expect(readFileSync(path, 'utf8')).toBe('written again\n');
  });

  it('drops lines while more than its bound waits for the disk, says so once, and says how many when it caught up', async () => {
    const path = join(dir, 'security.log');
    const file = new AppendingFile(path, report, 100);
    const line = 'x'.repeat(60);
    for (let i = 0; i < 50; i++) file.append(line);
    expect(troubles).toEqual([{ kind: 'behind', pendingBytes: expect.any(Number) as unknown }]);
    await until(() => troubles.length === 2, 'the catch-up reported');
    const lost = troubles[1]?.kind === 'recovered' ? troubles[1].lost : 0;
    expect(lost).toBeGreaterThan(0);
    await file.close();
    expect(
      readFileSync(path, 'utf8')
        .split('\n')
        .filter((written) => written !== ''),
    ).toHaveLength(50 - lost);
  });
});
