import { DrouterError } from '../errors.js';
import { listenFailureReason } from '../listen-failure.js';

/** The admin address cannot be bound (a second drouter on the same port, a typo'd address): one line saying where and what to change. */
export function adminBindError(config: { address: string; port: number }, cause: unknown): DrouterError {
  const host = config.address.includes(':') ? `[${config.address}]` : config.address;
  return new DrouterError(
    'DROUTER_ERR_ADMIN_BIND',
    `cannot listen for the admin API on ${host}:${config.port}: ${listenFailureReason(cause)}; set admin.port (DROUTER_ADMIN__PORT) or admin.address to a free address and port, or stop what holds it`,
    { cause },
  );
}
