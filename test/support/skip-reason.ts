import { describe, it, type TestFunction } from 'vitest';

/** Where a skipped suite's or test's title gives its reason: `TITLE (skipped: REASON)`. */
const MARK = ' (skipped: ';

/** `title` as it reads where `missing` is '', else with `missing` as the reason of a skip: use it with describe.skipIf(missing !== ''). */
export function titleUnless(title: string, missing: string): string {
  return missing === '' ? title : `${title}${MARK}${missing})`;
}

/** A title made by titleUnless for a skip, taken apart; undefined for another title. */
export function skipOfTitle(title: string): { title: string; reason: string } | undefined {
  const at = title.lastIndexOf(MARK);
  return at < 0 ? undefined : { title: title.slice(0, at), reason: title.slice(at + MARK.length, -1) };
}

type Suite = (title: string, body: () => void) => void;
type Test = (title: string, body: TestFunction, timeoutMs?: number) => void;

/**
 * `describe` where `missing` is '' (what the suite needs is there); else the
 * suite is skipped with `missing` in its title, which
 * test/support/skip-reasons-reporter.ts prints once at the end of the run
 * (vitest itself shows a skipped suite's title only when the run has one file).
 */
export function describeUnless(missing: string): Suite {
  return missing === '' ? describe : (title, body) => describe.skip(titleUnless(title, missing), body);
}

/** `it` where `missing` is '', else skipped as describeUnless skips a suite. */
export function itUnless(missing: string): Test {
  return missing === '' ? it : (title, body, timeoutMs) => it.skip(titleUnless(title, missing), body, timeoutMs);
}

/** '' where DROUTER_TEST_REDIS_URL names a Redis; else why the suite cannot run. */
export function redisMissing(): string {
  return process.env.DROUTER_TEST_REDIS_URL ? '' : 'DROUTER_TEST_REDIS_URL is not set';
}

/** '' where DROUTER_TEST_MYSQL_URL names a MariaDB; else why the suite cannot run. */
export function mysqlMissing(): string {
  return process.env.DROUTER_TEST_MYSQL_URL ? '' : 'DROUTER_TEST_MYSQL_URL is not set';
}
