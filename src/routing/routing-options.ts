import type { RoutingConfig } from '../config/schema.js';
import type { RoutingServiceOptions } from './routing-service.js';

/** The routing slice of the configuration, with `timeZone: system` made concrete. */
export function routingServiceOptions(config: Readonly<RoutingConfig>, systemTimeZone: string): RoutingServiceOptions {
  return {
    build: {
      hashRefers: config.hashRefers,
      useDomain: config.useDomain,
      extraPrefixChars: config.extraPrefixChars,
      timerec: {
        dialect: config.timerecDialect,
        defaultTimeZone: config.timeZone === 'system' ? systemTimeZone : config.timeZone,
      },
      dialect: config.dialect,
      strict: config.strict,
    },
    defaultGroup: config.defaultGroup === 'none' ? null : config.defaultGroup,
    strictLength: config.strictLength,
    ruleFallback: config.ruleFallback,
    partitions: config.partitions.enabled
      ? { defaultPartition: config.partitions.default === 'none' ? null : config.partitions.default, byDomain: config.partitions.byDomain }
      : null,
  };
}
