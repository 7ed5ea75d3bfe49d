import { readFile, rename, writeFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { plural } from '../core/plural.js';

/**
 * What keepalived last said about this node (its `notify` script runs
 * `drouter ha notify`), kept in a file so a node that starts or restarts
 * after the notification still knows it.
 */

export const KEEPALIVED_STATES = ['MASTER', 'BACKUP', 'FAULT', 'STOP'] as const;
export type KeepalivedState = (typeof KEEPALIVED_STATES)[number];
/** No notification yet (no file), or no file configured. */
export type KeepalivedView = KeepalivedState | 'unknown';

function isKeepalivedState(text: string): text is KeepalivedState {
  return (KEEPALIVED_STATES as readonly string[]).includes(text);
}

/**
 * The state from `drouter ha notify`'s arguments: the state alone
 * (`notify_master "drouter ha notify MASTER"`), or what keepalived passes a
 * generic `notify` script: TYPE NAME STATE [PRIORITY].
 */
export function parseNotifyArguments(args: readonly string[]): KeepalivedState {
  const state = args.length === 1 ? args[0] : args.length === 3 || args.length === 4 ? args[2] : undefined;
  if (state === undefined) {
    throw new UsageError(
      `expected STATE, or keepalived's TYPE NAME STATE [PRIORITY]; got ${plural(args.length, 'argument')} (${args.join(' ')})`,
    );
  }
  const upper = state.toUpperCase();
  if (!isKeepalivedState(upper))
    throw new UsageError(`keepalived state ${JSON.stringify(state)}: expected one of ${KEEPALIVED_STATES.join(', ')}`);
  return upper;
}

/** The state the file holds; a missing file is 'unknown', a file with anything else in it an error naming it. */
export async function readKeepalivedState(path: string): Promise<KeepalivedView> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'unknown';
    throw error;
  }
  const state = text.trim();
  if (!isKeepalivedState(state))
    throw new Error(
      `${path} holds ${JSON.stringify(state.slice(0, 40))}, not a keepalived state (${KEEPALIVED_STATES.join(', ')})`,
    );
  return state;
}

/** Written whole or not at all (a rename), so a node reading it meanwhile never sees half a state. */
export async function writeKeepalivedState(path: string, state: KeepalivedState): Promise<void> {
  const partial = `${path}.${process.pid}.tmp`;
  await writeFile(partial, `${state}\n`, 'utf8');
  await rename(partial, path);
}
