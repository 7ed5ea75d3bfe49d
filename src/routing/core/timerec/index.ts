import { MS_PER_SECOND } from './calendar.js';
import { nodeMatches } from './match.js';
import { parseExpression, parseLegacy } from './parse.js';
import type { TimerecDialect, TimerecNode } from './recurrence.js';
import { zoneNamed } from './zone.js';

/**
 * dr_rules.timerec: when a rule is valid. Two dialects (research note
 * drouting.md §3): `legacy` for OpenSIPS ≤ 3.1 and Kamailio, `opensips-3.2`
 * for OpenSIPS 3.2+ with its time zones and `&` `/` `!` `()` expressions.
 * Inputs the anchors silently read as something else (an unknown freq, a
 * malformed duration, an unknown zone) are errors here.
 */

export type { TimerecDialect } from './recurrence.js';

export interface TimerecOptions {
  dialect: TimerecDialect;
  /** Olson zone used when the string names none (OpenSIPS uses the system zone; the caller passes it). */
  defaultTimeZone: string;
}

/** A compiled recurrence: immutable, cheap to call many times. */
export interface Timerec {
  readonly source: string;
  matches(at: Date): boolean;
}

export type TimerecParse = { ok: true; timerec: Timerec } | { ok: false; error: string };

class CompiledTimerec implements Timerec {
  readonly source: string;
  readonly #node: TimerecNode;

  constructor(source: string, node: TimerecNode) {
    this.source = source;
    this.#node = node;
    Object.freeze(this);
  }

  matches(at: Date): boolean {
    const epochMs = at.getTime();
    if (Number.isNaN(epochMs)) throw new RangeError(`timerec "${this.source}": cannot check an invalid Date`);
    // The anchors compare whole seconds (time_t).
    return nodeMatches(this.#node, Math.floor(epochMs / MS_PER_SECOND) * MS_PER_SECOND);
  }
}

/** Empty or whitespace-only text means "always" and is not passed here. */
export function parseTimerec(text: string, options: TimerecOptions): TimerecParse {
  const defaultZone = zoneNamed(options.defaultTimeZone);
  if (!defaultZone) {
    return {
      ok: false,
      error: `default time zone "${options.defaultTimeZone}" is unknown; expected an IANA name such as Europe/London or UTC`,
    };
  }
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, error: 'empty timerec; an empty timerec means "always" and is not parsed' };
  const parsed = options.dialect === 'legacy' ? parseLegacy(trimmed, defaultZone) : parseExpression(text, defaultZone);
  return parsed.ok ? { ok: true, timerec: new CompiledTimerec(text, parsed.node) } : parsed;
}
