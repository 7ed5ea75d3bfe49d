import { z } from 'zod';
import { DEFAULT_SCANNER_AGENTS } from '../defence/core/scanner-agents.js';
import { isStoreUrl, isTimeZone, leaf, sourceNetwork } from './value-checks.js';

/**
 * The configuration's sections on what drouter does with calls: routing,
 * proxying, who is challenged (auth), the rates and bans (limits), shedding
 * under overload, the registrar and the gateway probes. schema.ts puts them
 * together.
 */

export const routingSchema = z.strictObject({
  hashRefers: leaf(
    z.enum(['carrier', 'gwlist', 'auto']),
    'one of carrier (OpenSIPS 1.8+), gwlist (OpenSIPS 1.x dr_gw_lists), auto',
  ).default('auto'),
  useDomain: leaf(z.boolean(), 'true or false').default(true),
  defaultGroup: leaf(
    z.union([z.literal('none'), z.number().int().min(0)]),
    'none or a group number (an integer >= 0)',
  ).default('none'),
  extraPrefixChars: leaf(
    z
      .string()
      .regex(/^[\x21-\x7e]*$/)
      .refine((s) => !/[0-9]/.test(s)),
    'printable ASCII characters other than digits (those are always allowed), such as +*#',
  ).default(''),
  timerecDialect: leaf(
    z.enum(['opensips-3.2', 'legacy']),
    'opensips-3.2 (OpenSIPS 3.2+) or legacy (OpenSIPS <= 3.1, Kamailio)',
  ).default('opensips-3.2'),
  timeZone: leaf(z.string().refine(isTimeZone), 'system, or an IANA time zone name such as Europe/London').default(
    'system',
  ),
  strictLength: leaf(z.boolean(), 'true or false').default(false),
  ruleFallback: leaf(z.boolean(), 'true or false').default(false),
  repeatGateways: leaf(
    z.enum(['as-listed', 'once']),
    'as-listed (OpenSIPS: a gateway listed twice is offered twice) or once',
  ).default('as-listed'),
  zeroWeightOrder: leaf(
    z.enum(['list', 'random']),
    'list (OpenSIPS 3.5.9) or random (OpenSIPS master, PR #3867)',
  ).default('list'),
  dialect: leaf(
    z.enum(['opensips-3', 'opensips-1', 'kamailio']),
    'opensips-3 (gwlist separators , |; ids of letters, digits, _ - .), opensips-1 or kamailio (separators , | ;, integer ids)',
  ).default('opensips-3'),
  strict: leaf(z.boolean(), 'true or false').default(false),
  partitions: z
    .strictObject({
      enabled: leaf(z.boolean(), 'true or false').default(false),
      table: leaf(z.string().regex(/^[A-Za-z0-9_]+$/), 'a table name (letters, digits, _)').default('dr_partitions'),
      url: leaf(
        z.string().refine((url) => url === '' || isStoreUrl(url)),
        "'' (the store's database) or a store URL (sqlite:PATH, mysql://user:password@host:port/database)",
      ).default(''),
      default: leaf(z.string().min(1), 'none or the name of a partition').default('none'),
      byDomain: leaf(z.boolean(), 'true or false').default(true),
    })
    .prefault({}),
});

const failoverCode = z.union([z.number().int().min(300).max(699), z.string().regex(/^[3-6]xx$/), z.literal('timeout')]);

export const proxySchema = z.strictObject({
  timeoutMs: leaf(z.number().int().min(100).max(64_000), 'milliseconds from 100 to 64000').default(5000),
  inviteTimeoutMs: leaf(z.number().int().min(1000).max(300_000), 'milliseconds from 1000 to 300000').default(30_000),
  failoverCodes: leaf(
    z.array(failoverCode),
    'a list of final codes (503), classes (5xx) and timeout (no answer in time, a local 408)',
  ).default(['5xx', 'timeout']),
  relayLastFailure: leaf(z.boolean(), 'true or false').default(false),
  recordRoute: leaf(z.boolean(), 'true or false').default(true),
});

export const authSchema = z.strictObject({
  trustedSources: leaf(
    z.array(sourceNetwork),
    'a list of addresses and CIDR networks (192.0.2.10, 198.51.100.0/24) whose requests are not challenged',
  ).default([]),
  addressGroups: leaf(
    z.array(z.number().int().min(0).max(65_535)),
    'a list of address.grp values whose rows are trusted; empty: every row',
  ).default([]),
  unauthenticatedMayReach: leaf(
    z.enum(['nothing', 'registered-phones']),
    'nothing (every call is challenged) or registered-phones (a call to a registered phone needs no credentials)',
  ).default('nothing'),
});

/** A token bucket: requests per second a source earns back, and how many it may send at once; 0 per second: no limit. */
function requestRate(perSecond: number, burst: number) {
  return z
    .strictObject({
      perSecond: leaf(z.number().min(0).max(100_000), 'requests per second from 0 (no limit) to 100000').default(
        perSecond,
      ),
      burst: leaf(z.number().int().min(1).max(100_000), 'an integer from 1 to 100000').default(burst),
    })
    .prefault({});
}

export const limitsSchema = z.strictObject({
  enabled: leaf(z.boolean(), 'true or false').default(true),
  register: requestRate(20, 60),
  invite: requestRate(10, 30),
  other: requestRate(50, 100),
  exemptSources: leaf(
    z.array(sourceNetwork),
    'a list of addresses and CIDR networks (an office NAT) exempt from the rates and bans, like the trusted sources',
  ).default([]),
  scannerUserAgents: leaf(
    z.array(z.string().min(1)),
    'a list of User-Agent fragments (case-insensitive) whose requests are dropped; empty: none',
  ).default([...DEFAULT_SCANNER_AGENTS]),
  maxTrackedSources: leaf(z.number().int().min(100).max(10_000_000), 'an integer from 100 to 10000000').default(
    100_000,
  ),
  ban: z
    .strictObject({
      failures: leaf(
        z.number().int().min(0).max(10_000),
        'failed authentications (and scanner requests) from one source in ban.windowSeconds that ban it; 0: never',
      ).default(10),
      userFailures: leaf(
        z.number().int().min(0).max(100_000),
        'failed authentications against one user from any source in ban.windowSeconds after which each source failing for it is banned; 0: never',
      ).default(30),
      overRate: leaf(
        z.number().int().min(0).max(10_000_000),
        'requests from one source dropped over its rate in ban.windowSeconds that ban it; 0: never',
      ).default(1000),
      windowSeconds: leaf(z.number().int().min(1).max(86_400), 'seconds from 1 to 86400').default(60),
      seconds: leaf(z.number().int().min(1).max(31_536_000), 'seconds from 1 to 31536000').default(300),
      maxSeconds: leaf(
        z.number().int().min(1).max(31_536_000),
        'seconds from 1 to 31536000, at least ban.seconds',
      ).default(86_400),
      memorySeconds: leaf(z.number().int().min(0).max(31_536_000), 'seconds from 0 to 31536000').default(86_400),
    })
    .prefault({}),
});

export const overloadSchema = z.strictObject({
  enabled: leaf(z.boolean(), 'true or false').default(true),
  maxLagMs: leaf(z.number().int().min(0).max(10_000), 'milliseconds from 0 (never for lag) to 10000').default(100),
  maxInvitesInProgress: leaf(z.number().int().min(0).max(1_000_000), 'an integer from 0 (no cap) to 1000000').default(
    0,
  ),
  maxLoopUtilization: leaf(
    z.number().min(0.1).max(1),
    'a share of time from 0.1 to 1 (1: never for utilization)',
  ).default(0.9),
  retryAfterSeconds: leaf(z.number().int().min(1).max(3600), 'seconds from 1 to 3600').default(5),
});

export const registrarSchema = z.strictObject({
  realm: leaf(
    z
      .string()
      .min(1)
      .regex(/^[^"\\]+$/),
    'a realm without quotes or backslashes (Asterisk md5secret values are hashed with it)',
  ).default('asterisk'),
  nonceSecret: leaf(
    z.string(),
    'the secret of the nonces and dialog tokens (the same on both nodes of a pair); empty: the one kept in the store',
  ).default(''),
  nonceLifetimeSeconds: leaf(z.number().int().min(10).max(3600), 'seconds from 10 to 3600').default(300),
  algorithms: leaf(
    z.array(z.enum(['SHA-256', 'MD5'])).min(1),
    'a non-empty list of SHA-256, MD5 (challenges in this order)',
  ).default(['MD5']),
  defaultExpiresSeconds: leaf(z.number().int().min(1).max(86_400), 'seconds from 1 to 86400').default(120),
  minExpiresSeconds: leaf(z.number().int().min(0).max(86_400), 'seconds from 0 to 86400').default(60),
  maxExpiresSeconds: leaf(z.number().int().min(1).max(86_400), 'seconds from 1 to 86400').default(3600),
  maxContacts: leaf(z.number().int().min(1).max(100), 'an integer from 1 to 100').default(5),
  expiresJitter: leaf(z.number().int().min(0).max(50), 'a percentage from 0 to 50').default(0),
  systemName: leaf(z.string(), 'the name written to sippeers.regserver (Asterisk systemname); empty: none').default(''),
  rtupdate: leaf(z.boolean(), 'true or false').default(true),
  sweepIntervalMs: leaf(z.number().int().min(100).max(600_000), 'milliseconds from 100 to 600000').default(1000),
  rtsavesysname: leaf(z.boolean(), 'true or false').default(false),
  rtcachefriends: leaf(z.boolean(), 'true or false').default(false),
  rtautoclearSeconds: leaf(
    z.number().int().min(0).max(86_400),
    'seconds from 0 (off) to 86400; chan_sip rtautoclear=yes is 120',
  ).default(0),
  ignoreregexpire: leaf(z.boolean(), 'true or false').default(false),
});

export const probeSchema = z.strictObject({
  enabled: leaf(z.boolean(), 'true or false').default(true),
  intervalMs: leaf(z.number().int().min(100).max(3_600_000), 'milliseconds from 100 to 3600000').default(30_000),
  timeoutMs: leaf(z.number().int().min(100).max(64_000), 'milliseconds from 100 to 64000').default(2000),
  from: leaf(z.string().regex(/^sips?:[^\s<>"]+$/), 'a SIP URI such as sip:prober@localhost').default(
    'sip:prober@localhost',
  ),
  replyCodes: leaf(
    z.array(z.number().int().min(200).max(699)),
    'a list of final codes (200-699) that also mean alive; 200 always does',
  ).default([]),
  downAfter: leaf(z.number().int().min(1).max(100), 'an integer from 1 to 100').default(1),
  upAfter: leaf(z.number().int().min(1).max(100), 'an integer from 1 to 100').default(1),
  persistState: leaf(z.boolean(), 'true or false').default(true),
  persistIntervalMs: leaf(z.number().int().min(100).max(600_000), 'milliseconds from 100 to 600000').default(1000),
  inheritState: leaf(z.boolean(), 'true or false').default(true),
});
