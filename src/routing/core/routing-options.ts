import type { RoutingConfig } from '../../config/schema.js';
import type { LocalSockets } from './gateway-socket.js';
import type { RoutingServiceOptions } from '../routing-service.js';

/** The routing slice of the configuration, with `timeZone: system` made concrete; `localSockets` from the sip slice. */
export function routingServiceOptions(
  config: Readonly<RoutingConfig>,
  systemTimeZone: string,
  localSockets: LocalSockets,
): RoutingServiceOptions {
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
      repeatGateways: config.repeatGateways,
      zeroWeightOrder: config.zeroWeightOrder,
      localSockets,
    },
    defaultGroup: config.defaultGroup === 'none' ? null : config.defaultGroup,
    strictLength: config.strictLength,
    ruleFallback: config.ruleFallback,
    partitions: config.partitions.enabled
      ? {
          defaultPartition: config.partitions.default === 'none' ? null : config.partitions.default,
          byDomain: config.partitions.byDomain,
        }
      : null,
  };
}
