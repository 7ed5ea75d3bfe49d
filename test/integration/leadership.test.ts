import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Cache } from '../../src/cache/cache.js';
import { cacheKeys } from '../../src/cache/keys.js';
import { openCache } from '../../src/cache/open-cache.js';
import {
  type KeepalivedState,
  parseNotifyArguments,
  readKeepalivedState,
  writeKeepalivedState,
} from '../../src/ha/keepalived-state.js';
import { Leadership } from '../../src/ha/leadership.js';
import { singletonWork } from '../../src/ha/singleton-work.js';
import { configSchema } from '../../src/config/schema.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { captureLog } from '../support/log-capture.js';
import { deleteKeys } from '../support/redis-keys.js';

/**
 * The leader lease on both caches (Redis when DROUTER_TEST_REDIS_URL is
 * set; set and unreachable fails): one leader among contenders, a stopped
 * or silent leader replaced within the lease, keepalived's state obeyed,
 * and a split brain (two MASTERs) still giving one leader.
 */
const REDIS_TEST_URL = process.env.DROUTER_TEST_REDIS_URL;
const TTL_MS = 400;
const RENEW_MS = 100;
/** A lease that is not renewed has run out, and a contender's next renewal round has come. */
const TAKEOVER_MS = TTL_MS + 2 * RENEW_MS;

interface Contender {
  name: string;
  leadership: Leadership;
  changes: string[];
}

const dir = mkdtempSync(join(tmpdir(), 'sipdr-leadership-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('keepalived notify arguments', () => {
  it("takes the state alone or in keepalived's generic TYPE NAME STATE PRIORITY form, in any case", () => {
    expect(parseNotifyArguments(['MASTER'])).toBe('MASTER');
    expect(parseNotifyArguments(['backup'])).toBe('BACKUP');
    expect(parseNotifyArguments(['INSTANCE', 'VI_SIP', 'FAULT', '100'])).toBe('FAULT');
    expect(parseNotifyArguments(['GROUP', 'G1', 'STOP'])).toBe('STOP');
  });

  it('refuses anything else with a message naming what it got', () => {
    expect(() => parseNotifyArguments([])).toThrow(/got 0 arguments/);
    expect(() => parseNotifyArguments(['INSTANCE', 'VI_SIP'])).toThrow(/got 2 arguments \(INSTANCE VI_SIP\)/);
    expect(() => parseNotifyArguments(['PRIMARY'])).toThrow(/"PRIMARY": expected one of MASTER, BACKUP, FAULT, STOP/);
  });

  it('reads back what was written, unknown without a file, and names a file holding something else', async () => {
    const file = join(dir, 'state-roundtrip');
    expect(await readKeepalivedState(file)).toBe('unknown');
    await writeKeepalivedState(file, 'BACKUP');
    expect(await readKeepalivedState(file)).toBe('BACKUP');
    const bad = join(dir, 'state-bad');
    await writeKeepalivedState(bad, 'MASTER');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(bad, 'primary\n');
    await expect(readKeepalivedState(bad)).rejects.toThrow(/state-bad holds "primary", not a keepalived state/);
  });
});

describe('the singleton work of a node', () => {
  /** The role lines singletonWork logs from start to stop, as [level, message]. */
  async function roleLines(cacheUrl: string): Promise<[number, string][]> {
    const captured = captureLog();
    const cache = await openCache('memory', { keyPrefix: 'sipdr-test:' });
    const started: string[] = [];
    const leadership = singletonWork(
      configSchema.parse({ cache: { url: cacheUrl } }),
      cache,
      captured.log,
      new Metrics(),
      [{ start: () => void started.push('start'), stop: () => void started.push('stop') }],
    );
    await leadership.start();
    await leadership.stop();
    await cache.close();
    expect(started).toEqual(['start', 'stop']);
    return captured.lines
      .filter((line) => /is the leader|standing by/.test(String(line.msg)))
      .map((line) => [Number(line.level), String(line.msg)]);
  }

  // pino's levels: 20 debug, 30 info.
  it('alone on the in-process cache, says nothing of the lease at info (its role never changes but at start and stop)', async () => {
    expect((await roleLines('memory')).map(([level]) => level)).toEqual([20, 20]);
  });

  it('with Redis, where another node may take the lease, logs each change of role at info', async () => {
    // Only the setting decides: the in-process cache stands in for Redis here.
    expect((await roleLines('redis://127.0.0.1:6379/0')).map(([level]) => level)).toEqual([30, 30]);
  });
});

const kinds: { name: string; url: string }[] = [{ name: 'memory', url: 'memory' }];
if (REDIS_TEST_URL) kinds.push({ name: 'redis', url: REDIS_TEST_URL });

describe.each(kinds)('the leader lease on the $name cache', ({ name: kind, url }) => {
  let testNumber = 0;
  let prefix = '';
  const caches: Cache[] = [];
  const contenders: Contender[] = [];
  let shared: Cache | undefined;

  /** Contenders of one test share one cache, as the processes of a pair share one Redis. */
  async function cache(): Promise<Cache> {
    if (shared) return shared;
    prefix = `sipdr-test:${process.pid}:lease:${++testNumber}:`;
    shared = await openCache(url, { keyPrefix: prefix });
    caches.push(shared);
    return shared;
  }

  async function contender(
    name: string,
    options: { stateFile?: string; cache?: Cache; log?: ReturnType<typeof captureLog>['log'] } = {},
  ): Promise<Contender> {
    const changes: string[] = [];
    const leadership = new Leadership(
      { holder: name, ttlMs: TTL_MS, renewIntervalMs: RENEW_MS, keepalivedStateFile: options.stateFile ?? '' },
      {
        cache: options.cache ?? (await cache()),
        now: () => performance.now(),
        log: options.log ?? captureLog().log,
        onChange: (leader, reason) => changes.push(`${leader ? 'leader' : 'standby'}: ${reason}`),
      },
    );
    const made = { name, leadership, changes };
    contenders.push(made);
    await leadership.start();
    return made;
  }

  const leaders = () => contenders.filter((each) => each.leadership.isLeader()).map((each) => each.name);

  async function waitForLeader(withinMs: number): Promise<string[]> {
    const deadline = Date.now() + withinMs;
    while (Date.now() < deadline && leaders().length === 0) await sleep(20);
    return leaders();
  }

  afterEach(async () => {
    for (const each of contenders.splice(0)) await each.leadership.stop();
    for (const each of caches.splice(0)) await each.close();
    shared = undefined;
    if (kind === 'redis' && REDIS_TEST_URL) await deleteKeys(REDIS_TEST_URL, cacheKeys(prefix).all);
  });

  it('makes a lone contender the leader at start, with a fence naming it', async () => {
    const alone = await contender('node-a');
    expect(alone.leadership.isLeader()).toBe(true);
    const token = alone.leadership.fence()?.token;
    expect(token).toBeGreaterThan(0);
    expect(alone.leadership.fence()).toEqual({ lease: 'leader', holder: 'node-a', token });
    expect(await alone.leadership.status()).toEqual({
      holder: 'node-a',
      role: 'leader',
      keepalived: 'unknown',
      leaseHolder: 'node-a',
      token,
    });
    expect(alone.changes).toEqual(['leader: took the leader lease']);
  });

  it('fences what it wrote under an old token when a renewal finds the lease gone and takes it again (a promoted replica that missed it)', async () => {
    const shared = await cache();
    const log = captureLog();
    const leader = await contender('node-a', { log: log.log });
    const before = leader.leadership.fence();
    expect(before?.token).toBeGreaterThan(0);
    // What a Redis failover to a replica that never got the lease looks like to the leader: the lease is not there.
    await shared.releaseLease('leader', 'node-a');
    await sleep(2 * RENEW_MS);
    const after = leader.leadership.fence();
    expect(after?.token).toBeGreaterThan(before?.token ?? Infinity);
    expect(leader.leadership.isLeader()).toBe(true);
    const aor = '1001';
    const read = await shared.getBindings(aor);
    const one = {
      aor,
      contact: 'sip:1001@127.0.0.7',
      expiresAt: Date.now() + 60_000,
      callId: 'c',
      cseq: 1,
      q: 1,
      source: { address: '127.0.0.7', port: 5060, transport: 'udp' as const },
      userAgent: undefined,
      contactParams: '',
    };
    expect(await shared.swapBindings(aor, read, [one], 60_000, before)).toBe('fenced');
    expect(await shared.swapBindings(aor, read, [one], 60_000, after)).toBe('swapped');
    expect(log.lines.map((line) => String(line.msg))).toContain(
      `node-a took the leader lease again under token ${after?.token}: it had been lost (a Redis failover?); writes under the old token are refused`,
    );
    expect(leader.changes).toEqual(['leader: took the leader lease']);
  });

  it('keeps one leader among three for as long as it renews, and hands over within the lease when it stops', async () => {
    await contender('node-a');
    await contender('node-b');
    await contender('node-c');
    for (let round = 0; round < 5; round++) {
      expect(leaders()).toEqual(['node-a']);
      await sleep(TTL_MS / 2);
    }
    const first = contenders[0] as Contender;
    await first.leadership.stop();
    expect(first.leadership.fence()).toBeUndefined();
    expect(first.changes).toEqual(['leader: took the leader lease', 'standby: this node is stopping']);
    // Released on stop: the next contender need not wait for the lease to run out.
    const started = Date.now();
    expect(await waitForLeader(TAKEOVER_MS)).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(TTL_MS);
  });

  it('takes over from a leader that vanished without a word within the lease time', async () => {
    const other = await openCache(url, { keyPrefix: prefix || `sipdr-test:${process.pid}:lease:${++testNumber}:` });
    caches.push(other);
    // A claim made by a process that then died: nothing renews or releases it.
    await (await cache()).claimLease('leader', 'node-dead', TTL_MS);
    const survivor = await contender('node-b');
    expect(survivor.leadership.isLeader()).toBe(false);
    const started = Date.now();
    expect(await waitForLeader(TAKEOVER_MS + 200)).toEqual(['node-b']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(TTL_MS - 2 * RENEW_MS);
  });

  it('stops leading by its own deadline when the cache stops answering, before anyone else can lead', async () => {
    const own = await openCache(url, { keyPrefix: `sipdr-test:${process.pid}:lease-cut:${++testNumber}:` });
    const leader = await contender('node-a', { cache: own });
    expect(leader.leadership.isLeader()).toBe(true);
    await own.close();
    await sleep(TTL_MS);
    expect(leader.leadership.isLeader()).toBe(false);
    expect(leader.leadership.fence()).toBeUndefined();
    expect(leader.changes).toEqual([
      'leader: took the leader lease',
      'standby: the leader lease ran out before it was renewed',
    ]);
    if (kind === 'redis' && REDIS_TEST_URL) await deleteKeys(REDIS_TEST_URL, `sipdr-test:${process.pid}:lease-cut:*`);
  });

  it('with keepalived in charge, contends only as MASTER, and a BACKUP notice hands the lease over at once', async () => {
    const fileA = join(dir, `${kind}-a`);
    const fileB = join(dir, `${kind}-b`);
    const say = (file: string, state: KeepalivedState) => writeKeepalivedState(file, state);
    await say(fileA, 'BACKUP');
    const a = await contender('node-a', { stateFile: fileA });
    const b = await contender('node-b', { stateFile: fileB });
    // BACKUP and no notice yet (unknown): nobody contends.
    await sleep(TAKEOVER_MS);
    expect(leaders()).toEqual([]);
    expect((await b.leadership.status()).keepalived).toBe('unknown');

    await say(fileB, 'MASTER');
    await b.leadership.keepalivedSaid('MASTER');
    expect(leaders()).toEqual(['node-b']);

    // keepalived moves the address: B hears BACKUP, A hears MASTER. B lets go at once, A takes it at once.
    await say(fileB, 'BACKUP');
    await b.leadership.keepalivedSaid('BACKUP');
    await say(fileA, 'MASTER');
    await a.leadership.keepalivedSaid('MASTER');
    expect(leaders()).toEqual(['node-a']);
    expect(b.changes).toEqual(['leader: took the leader lease', 'standby: keepalived says BACKUP']);
  });

  it('gives one leader in a split brain, when keepalived calls both nodes MASTER', async () => {
    const fileA = join(dir, `${kind}-split-a`);
    const fileB = join(dir, `${kind}-split-b`);
    await writeKeepalivedState(fileA, 'MASTER');
    await writeKeepalivedState(fileB, 'MASTER');
    await contender('node-a', { stateFile: fileA });
    await contender('node-b', { stateFile: fileB });
    for (let round = 0; round < 6; round++) {
      expect(leaders()).toHaveLength(1);
      await sleep(RENEW_MS);
    }
    expect(leaders()).toEqual(['node-a']);
  });
});
