import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_SCANNER_AGENTS } from '../defence/core/scanner-agents.js';
import { parseNetwork } from '../sip/source-networks.js';

/**
 * The one configuration schema. Each leaf carries, as its description, the
 * sentence an operator sees when the value is wrong ("what is allowed").
 * Defaults are the embedded default (config/default.yaml says the same; a
 * test keeps the two equal).
 */

function leaf<T extends z.ZodType>(schema: T, allowed: string): T {
  return schema.describe(allowed);
}

/** Whether an IP address is a loopback address (127.0.0.0/8, ::1). */
export function isLoopback(address: string): boolean {
  return address === '::1' || /^127\./.test(address);
}

const ipAddress = leaf(
  z.string().refine((s) => isIP(s) !== 0),
  'an IPv4 or IPv6 address such as 127.0.0.1',
);

const hostName = leaf(z.string().regex(/^[A-Za-z0-9.:_-]+$/), 'a host name or IP address');

const portNumber = leaf(z.number().int().min(1).max(65535), 'an integer port from 1 to 65535');

export function isStoreUrl(url: string): boolean {
  if (url.startsWith('sqlite:')) return url.length > 'sqlite:'.length;
  return parsesAs(url, 'mysql:', (u) => u.hostname !== '' && /^\/[^/]+$/.test(u.pathname));
}

export function isCacheUrl(url: string): boolean {
  if (url === 'memory') return true;
  return parsesAs(url, 'redis:', (u) => u.hostname !== '' && /^(\/\d*)?$/.test(u.pathname));
}

export function isTimeZone(name: string): boolean {
  if (name === 'system') return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function parsesAs(url: string, protocol: string, check: (u: URL) => boolean): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === protocol && check(parsed);
  } catch {
    return false;
  }
}

const sipSchema = z.strictObject({
  engine: leaf(z.enum(['native', 'drachtio']), 'one of native, drachtio').default('native'),
  address: ipAddress.default('127.0.0.1'),
  port: portNumber.default(5060),
  transports: leaf(
    z.array(z.enum(['udp', 'tcp', 'tls', 'ws', 'wss'])).min(1),
    'a non-empty list of udp, tcp, tls, ws, wss (tls, ws, wss: the native engine, on sip.tls.port, sip.websocket.port and securePort; tls and wss with sip.tls.certificateFile and keyFile)',
  ).default(['udp', 'tcp']),
  // SIP over TLS (docs/engines.md "TLS"): the native engine's listener on its own port, and its connections out.
  tls: z
    .strictObject({
      port: leaf(
        z.number().int().min(1).max(65535),
        'an integer port from 1 to 65535, not used by another transport',
      ).default(5061),
      certificateFile: leaf(
        z.string(),
        "a PEM file: this server's certificate (and its chain); required when sip.transports has tls or wss",
      ).default(''),
      keyFile: leaf(
        z.string(),
        "a PEM file: the certificate's private key; required when sip.transports has tls or wss",
      ).default(''),
      caFile: leaf(
        z.string(),
        "a PEM file of CA certificates that clients' and gateways' certificates must chain to; empty: the system's CAs",
      ).default(''),
      clientCertificates: leaf(z.enum(['none', 'request', 'require']), 'one of none, request, require').default('none'),
      verifyServers: leaf(z.boolean(), 'true or false').default(true),
    })
    .prefault({}),
  // SIP over WebSocket (RFC 7118, docs/engines.md "WebSocket"): browser phones.
  websocket: z
    .strictObject({
      port: leaf(
        z.number().int().min(1).max(65535),
        'an integer port from 1 to 65535, not used by another transport',
      ).default(8080),
      securePort: leaf(
        z.number().int().min(1).max(65535),
        'an integer port from 1 to 65535, not used by another transport',
      ).default(8443),
      allowedOrigins: leaf(
        z.array(z.string().regex(/^https?:\/\/[^/\s]+$/)),
        'a list of web origins (https://phone.example.com) whose pages may connect; empty: any',
      ).default([]),
    })
    .prefault({}),
  // The native engine's TCP connections (docs/engines.md "TCP limits"); drachtio-server keeps its own.
  tcp: z
    .strictObject({
      maxConnections: leaf(
        z.number().int().min(1).max(1_000_000),
        'an integer from 1 to 1000000, below the open-file limit',
      ).default(4096),
      maxConnectionsPerSource: leaf(z.number().int().min(1).max(1_000_000), 'an integer from 1 to 1000000').default(64),
      idleTimeoutMs: leaf(z.number().int().min(1000).max(86_400_000), 'milliseconds from 1000 to 86400000').default(
        180_000,
      ),
      messageTimeoutMs: leaf(z.number().int().min(100).max(600_000), 'milliseconds from 100 to 600000').default(10_000),
      maxHeadBytes: leaf(z.number().int().min(1024).max(1_048_576), 'bytes from 1024 to 1048576').default(16_384),
      maxBodyBytes: leaf(z.number().int().min(0).max(16_777_216), 'bytes from 0 to 16777216').default(32_768),
    })
    .prefault({}),
  drachtio: z
    .strictObject({
      host: hostName.default('127.0.0.1'),
      port: portNumber.default(9022),
      secret: leaf(z.string().min(1), 'a non-empty string').default('cymru'),
      // Inbound mode: drachtio-server connects to us (its <request-handler> tcp://ADDRESS:PORT) instead.
      listen: z
        .strictObject({
          address: ipAddress.default('127.0.0.1'),
          port: leaf(z.number().int().min(0).max(65535), 'an integer port from 1 to 65535, or 0 for off').default(0),
        })
        .prefault({}),
    })
    .prefault({}),
});

const adminSchema = z.strictObject({
  address: ipAddress.default('127.0.0.1'),
  port: portNumber.default(8080),
  token: leaf(
    z.string().regex(/^[\x21-\x7e]*$/),
    'printable ASCII without spaces; required when admin.address is not a loopback address',
  ).default(''),
  allowedHosts: leaf(
    z.array(z.string().refine((s) => /^[A-Za-z0-9._-]+$/.test(s) || isIP(s) === 6)),
    'a list of host names or IP addresses without a port (admin.example.net, 192.0.2.10) that the Host header of an admin request may name',
  ).default([]),
  // Kubernetes probes and Prometheus read these without a bearer token; docs/admin-api.md says what an open read gets.
  openReads: leaf(
    z.array(z.enum(['/health', '/metrics'])),
    'a list of /health, /metrics: the reads answered without admin.token',
  ).default([]),
});

const storeSchema = z.strictObject({
  url: leaf(z.string().refine(isStoreUrl), 'sqlite:PATH or mysql://user:pass@host:port/db').default(
    'sqlite:data/drouter.db',
  ),
  seedExample: leaf(z.boolean(), 'true or false').default(true),
});

/** host:port, the host a name, an IPv4 address or a bracketed IPv6 address. */
export function isHostPort(text: string): boolean {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(text);
  return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
}

/** address:port with an IP address (IPv6 in brackets): a node's own SIP address, compared and sent to without DNS. */
function isAddressPort(text: string): boolean {
  const host = /^\[?([^\]]+)\]?:\d+$/.exec(text)?.[1] ?? '';
  return isHostPort(text) && isIP(host) !== 0 && (isIP(host) === 4) === !text.startsWith('[');
}

const cacheSchema = z.strictObject({
  url: leaf(z.string().refine(isCacheUrl), 'memory or redis://host:port/db').default('memory'),
  keyPrefix: leaf(z.string().regex(/^[\x21-\x7e]+$/), 'printable ASCII without spaces').default('sipdr:'),
  sentinels: leaf(
    z.array(z.string().refine(isHostPort)),
    'a list of host:port of Redis Sentinels (127.0.0.1:26379); empty: cache.url names the Redis itself',
  ).default([]),
  sentinelName: leaf(
    z.string().regex(/^[\x21-\x7e]+$/),
    "the name the sentinels monitor the primary under (sentinel.conf's `sentinel monitor NAME`)",
  ).default('mymaster'),
  sentinelPassword: leaf(z.string(), "the sentinels' own password (requirepass of sentinel.conf); empty: none").default(
    '',
  ),
  waitReplicas: leaf(
    z.number().int().min(0).max(16),
    'an integer 0-16: replicas that must hold a binding before its REGISTER is answered 200 (Redis WAIT); 0: off',
  ).default(0),
  waitTimeoutMs: leaf(z.number().int().min(1).max(10_000), 'an integer 1-10000 (ms)').default(500),
});

const routingSchema = z.strictObject({
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

const proxySchema = z.strictObject({
  timeoutMs: leaf(z.number().int().min(100).max(64_000), 'milliseconds from 100 to 64000').default(5000),
  inviteTimeoutMs: leaf(z.number().int().min(1000).max(300_000), 'milliseconds from 1000 to 300000').default(30_000),
  failoverCodes: leaf(
    z.array(failoverCode),
    'a list of final codes (503), classes (5xx) and timeout (no answer in time, a local 408)',
  ).default(['5xx', 'timeout']),
  relayLastFailure: leaf(z.boolean(), 'true or false').default(false),
  recordRoute: leaf(z.boolean(), 'true or false').default(true),
});

/** An IPv4 or IPv6 address, or a network in CIDR form (192.0.2.0/24, 2001:db8::/32). */
const sourceNetwork = z.string().refine((text) => parseNetwork(text) !== undefined);

const authSchema = z.strictObject({
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

const limitsSchema = z.strictObject({
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

const overloadSchema = z.strictObject({
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

const registrarSchema = z.strictObject({
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

const probeSchema = z.strictObject({
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

const haSchema = z.strictObject({
  nodeName: leaf(z.string().regex(/^[\x21-\x7e]*$/), 'printable ASCII without spaces; empty: the host name').default(
    '',
  ),
  lease: z
    .strictObject({
      ttlMs: leaf(z.number().int().min(500).max(60_000), 'milliseconds from 500 to 60000').default(3000),
      renewIntervalMs: leaf(
        z.number().int().min(100).max(30_000),
        'milliseconds from 100 to 30000, less than ha.lease.ttlMs',
      ).default(1000),
    })
    .prefault({}),
  keepalivedStateFile: leaf(
    z.string(),
    'a file path that drouter ha notify writes; empty: every node contends for the leader lease',
  ).default(''),
  nodeAddress: leaf(
    z.string().refine((text) => text === '' || isAddressPort(text)),
    'address:port this node takes SIP on, as the other nodes reach it (198.18.0.11:5060), with a cache the nodes share (cache.url redis://) on the native engine; empty: calls go straight to every phone',
  ).default(''),
});

const logSchema = z.strictObject({
  level: leaf(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    'one of fatal, error, warn, info, debug, trace, silent',
  ).default('info'),
  securityFile: leaf(
    z.string(),
    "a file path the security lines (failed authentications, refused requests, bans) are appended to in Asterisk's format, for fail2ban; empty: none",
  ).default(''),
});

export const configSchema = z
  .strictObject({
    sip: sipSchema.prefault({}),
    admin: adminSchema.prefault({}),
    store: storeSchema.prefault({}),
    cache: cacheSchema.prefault({}),
    routing: routingSchema.prefault({}),
    proxy: proxySchema.prefault({}),
    auth: authSchema.prefault({}),
    limits: limitsSchema.prefault({}),
    overload: overloadSchema.prefault({}),
    registrar: registrarSchema.prefault({}),
    probe: probeSchema.prefault({}),
    ha: haSchema.prefault({}),
    log: logSchema.prefault({}),
  })
  .superRefine((config, context) => {
    // An admin API reachable from elsewhere steers the gateways: it must not be open.
    if (config.admin.token === '' && !isLoopback(config.admin.address)) {
      context.addIssue({
        code: 'custom',
        path: ['admin', 'token'],
        input: config.admin.token,
        message: 'required when admin.address is not a loopback address',
      });
    }
    if (config.limits.ban.maxSeconds < config.limits.ban.seconds) {
      context.addIssue({
        code: 'custom',
        path: ['limits', 'ban', 'maxSeconds'],
        input: config.limits.ban.maxSeconds,
        message: `must be at least limits.ban.seconds (${config.limits.ban.seconds})`,
      });
    }
    if (config.cache.sentinels.length > 0 && !config.cache.url.startsWith('redis://')) {
      context.addIssue({
        code: 'custom',
        path: ['cache', 'url'],
        input: config.cache.url,
        message:
          'must be a redis:// URL (its password and database are used; the sentinels name the primary) when cache.sentinels is set',
      });
    }
    if (config.cache.waitReplicas > 0 && config.cache.url === 'memory') {
      context.addIssue({
        code: 'custom',
        path: ['cache', 'waitReplicas'],
        input: config.cache.waitReplicas,
        message: 'must be 0 with cache.url memory (an in-process cache has no replicas)',
      });
    }
    const { transports, tls, websocket } = config.sip;
    if (transports.includes('tls') || transports.includes('wss')) {
      for (const key of ['certificateFile', 'keyFile'] as const) {
        if (tls[key] === '')
          context.addIssue({
            code: 'custom',
            path: ['sip', 'tls', key],
            input: '',
            message: 'required when sip.transports has tls or wss',
          });
      }
    }
    if (
      config.sip.engine === 'drachtio' &&
      transports.some((transport) => transport !== 'udp' && transport !== 'tcp')
    ) {
      context.addIssue({
        code: 'custom',
        path: ['sip', 'transports'],
        input: transports,
        message:
          "tls, ws and wss are the native engine's: drachtio-server serves them itself (its own contacts and certificate)",
      });
    }
    // Each transport beyond UDP and TCP on a port of its own.
    const ports = [
      { transport: 'tls', path: ['sip', 'tls', 'port'], port: tls.port },
      { transport: 'ws', path: ['sip', 'websocket', 'port'], port: websocket.port },
      { transport: 'wss', path: ['sip', 'websocket', 'securePort'], port: websocket.securePort },
    ].filter((each) => transports.includes(each.transport as 'tls'));
    const taken = new Set([config.sip.port]);
    for (const each of ports) {
      if (taken.has(each.port))
        context.addIssue({
          code: 'custom',
          path: each.path,
          input: each.port,
          message: "must differ from sip.port and the other transports' ports",
        });
      taken.add(each.port);
    }
    if (config.ha.nodeAddress !== '' && config.cache.url === 'memory') {
      context.addIssue({
        code: 'custom',
        path: ['ha', 'nodeAddress'],
        input: config.ha.nodeAddress,
        message:
          "needs a cache the nodes share (cache.url redis://): with the in-process cache no other node sees this one's registrations",
      });
    }
    if (config.ha.nodeAddress !== '' && config.sip.engine === 'drachtio') {
      context.addIssue({
        code: 'custom',
        path: ['ha', 'nodeAddress'],
        input: config.ha.nodeAddress,
        message:
          'works on the native engine only: the drachtio engine cannot send a call to another node with a Route of ours',
      });
    }
    // A renewal must come while the lease still runs, or leadership flaps.
    if (config.ha.lease.renewIntervalMs >= config.ha.lease.ttlMs) {
      context.addIssue({
        code: 'custom',
        path: ['ha', 'lease', 'renewIntervalMs'],
        input: config.ha.lease.renewIntervalMs,
        message: `must be less than ha.lease.ttlMs (${config.ha.lease.ttlMs})`,
      });
    }
  });

export type Config = z.infer<typeof configSchema>;
export type SipConfig = Config['sip'];
export type AdminConfig = Config['admin'];
export type StoreConfig = Config['store'];
export type CacheConfig = Config['cache'];
export type RoutingConfig = Config['routing'];
export type ProxyConfig = Config['proxy'];
export type AuthConfig = Config['auth'];
export type LimitsConfig = Config['limits'];
export type OverloadConfig = Config['overload'];
export type RegistrarConfig = Config['registrar'];
export type ProbeConfig = Config['probe'];
export type HaConfig = Config['ha'];
