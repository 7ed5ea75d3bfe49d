import { jsonLogLines } from './leadership-log.js';
import { redisLogTime } from './private-redis.js';

/** pino's level of warn: warnings and errors are what a node says about an outage. */
const WARN = 40;

/**
 * What a redis-server repeats at each retry or hello and says nothing of
 * why an outage lasted: a replica's attempts on the dead primary, the
 * sentinels' discovery and their saves of their own configuration.
 */
const REDIS_CHATTER =
  /Connecting to MASTER|MASTER <-> REPLICA sync started|Error condition on socket for SYNC|\+slave |\+sentinel |configuration saved/;

/**
 * A node's warnings and errors from `from` (ms since the epoch) on, one
 * line per message (digits folded, so that one cause repeated is one
 * line): how many, and the first and last second after `from`.
 */
export function warningsSince(stdout: string, from: number): string[] {
  const seen = new Map<string, { count: number; first: number; last: number }>();
  for (const line of jsonLogLines(stdout)) {
    if (typeof line.level !== 'number' || line.level < WARN || typeof line.time !== 'number' || line.time < from)
      continue;
    const message = String(line.msg).replace(/\d+/g, 'N');
    const second = (line.time - from) / 1000;
    const entry = seen.get(message) ?? { count: 0, first: second, last: second };
    entry.count++;
    entry.last = second;
    seen.set(message, entry);
  }
  return [...seen].map(
    ([message, { count, first, last }]) => `${count}× +${first.toFixed(2)}..+${last.toFixed(2)} s: ${message}`,
  );
}

/**
 * A redis-server's log from `from` on, its chatter left out: a sentinel's
 * votes, a failed election and the switch; a replica's promotion or resync.
 */
export function redisLogSince(log: string, from: number): string[] {
  return log.split('\n').filter((line) => (redisLogTime(line) ?? 0) >= from && !REDIS_CHATTER.test(line));
}
