import { inspect } from 'node:util';
import type { Knex } from 'knex';
import type { Logger } from '../../log.js';

/** Where knex's own messages (warn, error, deprecate, debug) are sent, as text. */
interface DriverMessages {
  warn(text: string): void;
  error(text: string): void;
  deprecate(text: string): void;
  debug(text: string): void;
}

/** Into our JSON log, at the matching level, each line saying it is the driver's. */
function driverMessagesTo(log: Logger): DriverMessages {
  return {
    warn: (text) => log.warn(`database driver: ${text}`),
    error: (text) => log.error(`database driver: ${text}`),
    deprecate: (text) => log.warn(`database driver deprecation: ${text}`),
    debug: (text) => log.debug(`database driver: ${text}`),
  };
}

/** Without a logger (the one-shot CLI commands, which print text): Node's warning channel, on stderr. */
const processWarnings: DriverMessages = {
  warn: (text) => process.emitWarning(text, 'KnexWarning'),
  error: (text) => process.emitWarning(text, 'KnexError'),
  deprecate: (text) => process.emitWarning(text, 'DeprecationWarning'),
  debug: () => undefined,
};

/**
 * knex's `log` option: left out, knex prints on stdout, in colour, between
 * the JSON lines. A failed connection is reported by us as
 * StoreUnreachableError (at start) or as the store being down (running), so
 * knex's own "Acquire connection error" is dropped.
 */
export function knexLog(log: Logger | undefined): Knex.Config['log'] {
  const messages = log ? driverMessagesTo(log) : processWarnings;
  // knex hands over what it was given, not always a string.
  const text = (message: unknown) => (typeof message === 'string' ? message : inspect(message));
  return {
    warn: (message: unknown) => {
      if (!text(message).startsWith('Acquire connection error')) messages.warn(text(message));
    },
    error: (message: unknown) => messages.error(text(message)),
    deprecate: (message: unknown) => messages.deprecate(text(message)),
    debug: (message: unknown) => messages.debug(text(message)),
  };
}
