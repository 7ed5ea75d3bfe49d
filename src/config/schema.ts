import { z } from 'zod';
import { adminSchema, cacheSchema, haSchema, logSchema, sipSchema, storeSchema } from './deployment-schemas.js';
import {
  authSchema,
  limitsSchema,
  overloadSchema,
  probeSchema,
  proxySchema,
  registrarSchema,
  routingSchema,
} from './call-handling-schemas.js';
import { isLoopback } from './value-checks.js';

/**
 * The one configuration schema. Each leaf carries, as its description, the
 * sentence an operator sees when the value is wrong ("what is allowed").
 * Defaults are the embedded default (config/default.yaml says the same; a
 * test keeps the two equal).
 */

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
