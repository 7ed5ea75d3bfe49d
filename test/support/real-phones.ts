import { spawnSync } from 'node:child_process';
import { Baresip, type BaresipOptions, freeControlPort } from './baresip.js';
import { freePort } from './drouter-process.js';
import { metricGrowth } from './connection-checks.js';
import type { TestServer } from './drouter-server.js';
import type { ScriptedGateway } from './scripted-gateway.js';
import { waitFor } from './wait-for.js';

/** The domain of the example data's dr_groups rows: the phones' addresses of record are in it. */
export const PHONE_DOMAIN = '127.0.0.1';
/** Routed by the example's rule 011 to gateway list #1 (gateway 1, then 2). */
export const INTERNATIONAL_NUMBER = '01144201230001';
/** Each step of a real phone (a registration, a call set up, a hang-up) is over well within this. */
export const PHONE_STEP_MS = 10_000;
/** What the phones ask for: regint=600 (baresip) and reg_expires=600 (linphonec). */
export const PHONE_EXPIRES_SECONDS = 600;

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
  const missing = PHONE_PROGRAMS.filter(
    ({ program, args }) => spawnSync(program, args, { timeout: 10_000 }).error !== undefined,
  );
  if (missing.length > 0 && process.env.DROUTER_TEST_PHONES) {
    throw new Error(
      `DROUTER_TEST_PHONES is set but ${missing.map((m) => m.program).join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not installed (apt-get install ${missing.map((m) => m.debianPackage).join(' ')})`,
    );
  }
  return missing.map(({ program }) => program);
}

/**
 * baresip dials `number` through `server`, answering the proxy's 407, and
 * hangs up once `gateway` has the ACK; resolves when baresip saw the call
 * close and the BYE reached the gateway, with how many 407s the proxy sent
 * the INVITEs meanwhile. Each wait is bounded by `stepMs`.
 */
export async function baresipCallsGateway(
  phone: Baresip,
  server: TestServer,
  gateway: ScriptedGateway,
  number: string,
  stepMs: number,
): Promise<{ challenges: number }> {
  const from = phone.events.length;
  const { by: challenges } = await metricGrowth(
    server,
    'sipdr_sip_responses_total',
    { method: 'INVITE', code: '407' },
    async () => {
      if (!(await phone.command('dial', number, stepMs)).ok)
        throw new Error(`baresip refused to dial ${number}; ${phone.printed()}`);
      return phone.event('CALL_ESTABLISHED', stepMs, from);
    },
  );
  await waitFor(`the ACK at gateway ${gateway.address}`, stepMs, () =>
    gateway.requests('ACK').length > 0 ? true : undefined,
  );
  if (!(await phone.command('hangup', '', stepMs)).ok)
    throw new Error(`baresip refused to hang up; ${phone.printed()}`);
  await phone.event('CALL_CLOSED', stepMs, from);
  await waitFor(`the BYE at gateway ${gateway.address}`, stepMs, () =>
    gateway.requests('BYE').length > 0 ? true : undefined,
  );
  return { challenges };
}

/**
 * Starts baresip on a free SIP port (ctrl_tcp beside it) and waits until its
 * account is registered through `server`; with how many REGISTERs the proxy
 * challenged and registered meanwhile. A phone that does not register is stopped.
 */
export async function baresipRegisters(
  server: TestServer,
  options: Omit<BaresipOptions, 'sipPort' | 'controlPort'>,
): Promise<{ phone: Baresip; challenged: number; registered: number }> {
  const sipPort = await freePort();
  const controlPort = await freeControlPort(sipPort);
  let phone: Baresip | undefined;
  const challenged = await metricGrowth(server, 'sipdr_registrations_total', { result: 'challenged' }, () =>
    metricGrowth(server, 'sipdr_registrations_total', { result: 'registered' }, async () => {
      phone = await Baresip.start({ ...options, sipPort, controlPort });
      await phone.registered(options.timeoutMs).catch(async (error: unknown) => {
        await phone?.stop(1000);
        throw error;
      });
    }),
  );
  if (!phone) throw new Error('baresip did not start');
  return { phone, challenged: challenged.by, registered: challenged.result.by };
}
