import { spawnSync } from 'node:child_process';

/** The phones' programs and the Debian packages they come in. */
const PHONE_PROGRAMS = [
  { program: 'baresip', args: ['-h'], debianPackage: 'baresip' },
  { program: 'linphonec', args: ['-v'], debianPackage: 'linphone-cli' },
] as const;

/**
 * The real phones' programs that are not installed. Missing ones are a
 * failure when DROUTER_TEST_PHONES is set (as .ci/run sets it), else the
 * caller skips, naming them.
 */
export function missingPhonePrograms(): string[] {
  const missing = PHONE_PROGRAMS.filter(({ program, args }) => spawnSync(program, args, { timeout: 10_000 }).error !== undefined);
  if (missing.length > 0 && process.env.DROUTER_TEST_PHONES) {
    throw new Error(`DROUTER_TEST_PHONES is set but ${missing.map((m) => m.program).join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not installed (apt-get install ${missing.map((m) => m.debianPackage).join(' ')})`);
  }
  return missing.map(({ program }) => program);
}
