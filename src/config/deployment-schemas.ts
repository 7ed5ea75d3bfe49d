import { isIP } from 'node:net';
import { z } from 'zod';
import {
  hostName,
  ipAddress,
  isAddressPort,
  isCacheUrl,
  isHostPort,
  isStoreUrl,
  leaf,
  portNumber,
} from './value-checks.js';

/**
 * The configuration's sections on where drouter runs: the SIP listeners and
 * engine, the admin API, the store and the cache it connects to, the nodes
 * of a pair (ha) and the log. schema.ts puts them together.
 */

export const sipSchema = z.strictObject({
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

export const adminSchema = z.strictObject({
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

export const storeSchema = z.strictObject({
  url: leaf(z.string().refine(isStoreUrl), 'sqlite:PATH or mysql://user:pass@host:port/db').default(
    'sqlite:data/drouter.db',
  ),
  seedExample: leaf(z.boolean(), 'true or false').default(true),
});

export const cacheSchema = z.strictObject({
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

export const haSchema = z.strictObject({
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

export const logSchema = z.strictObject({
  level: leaf(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    'one of fatal, error, warn, info, debug, trace, silent',
  ).default('info'),
  securityFile: leaf(
    z.string(),
    "a file path the security lines (failed authentications, refused requests, bans) are appended to in Asterisk's format, for fail2ban; empty: none",
  ).default(''),
});
