import { parseRecurrence } from './fields.js';
import type { TimerecNode } from './recurrence.js';
import type { Zone } from './zone.js';

/**
 * The opensips-3.2 expression grammar (time_rec.c `tmrec_expr_parse`,
 * :1932-2140): recurrences joined by `&` (and) or `/` (or), `!` negating
 * the next operand, parentheses nesting; one operator kind per parenthesis
 * level. A `/` ends a recurrence only once the recurrence has shown a `|`,
 * so `Europe/London|…` keeps its zone. Blanks separate tokens and end a
 * recurrence. OpenSIPS accepts `()`, a lone `!` and `!()` (cfgutils tests
 * "buggy, but still somewhat reasonable"); here they are errors.
 */

export type NodeParse = { ok: true; node: TimerecNode } | { ok: false; error: string };

class ExpressionProblem extends Error {}

function at(index: number, why: string): ExpressionProblem {
  return new ExpressionProblem(`position ${index + 1}: ${why}`);
}

const isBlank = (char: string): boolean => char === ' ' || char === '\t' || char === '\r' || char === '\n';

export function parseExpression(text: string, defaultZone: Zone): NodeParse {
  try {
    const node = parseLevel(text, 0, text.length, defaultZone);
    if (!node) throw at(0, 'expected a recurrence');
    return { ok: true, node };
  } catch (error) {
    if (error instanceof ExpressionProblem) return { ok: false, error: error.message };
    throw error;
  }
}

/** One legacy recurrence: the whole text, with no operators (a `/` is left to the fields, where a zone name would be). */
export function parseLegacy(text: string, defaultZone: Zone): NodeParse {
  const operator = /[&!()]/.exec(text);
  if (operator) {
    return {
      ok: false,
      error: `position ${operator.index + 1}: "${operator[0]}" is an opensips-3.2 operator; a legacy timerec is one recurrence`,
    };
  }
  const parsed = parseRecurrence(text, 'legacy', defaultZone);
  return parsed.ok ? { ok: true, node: { kind: 'recurrence', recurrence: parsed.recurrence, negated: false } } : parsed;
}

/** Parses text[from, to); null when it holds only blanks. */
function parseLevel(text: string, from: number, to: number, defaultZone: Zone): TimerecNode | null {
  const parts: TimerecNode[] = [];
  let operator: '&' | '/' | null = null;
  let operatorAt = -1;
  let negated = false;
  let negationAt = -1;
  let needOperand = true;
  let index = from;
  while (index < to) {
    const char = text.charAt(index);
    if (isBlank(char)) {
      index += 1;
      continue;
    }
    if (!needOperand) {
      if (char !== '&' && char !== '/') throw at(index, `expected "&" or "/" after a recurrence, found "${char}"`);
      if (operator && operator !== char) {
        throw at(index, `"${operator}" and "${char}" cannot be mixed at one level; add parentheses`);
      }
      operator = char;
      operatorAt = index;
      needOperand = true;
      index += 1;
      continue;
    }
    if (char === ')' || char === '&' || char === '/')
      throw at(index, `expected a recurrence, "!" or "(", found "${char}"`);
    if (char === '!') {
      negated = !negated;
      negationAt = index;
      index += 1;
      continue;
    }
    let node: TimerecNode;
    if (char === '(') {
      const close = matchingParenthesis(text, index, to);
      const inner = parseLevel(text, index + 1, close, defaultZone);
      if (!inner) throw at(index, 'empty parentheses');
      node = negated ? { ...inner, negated: !inner.negated } : inner;
      index = close + 1;
    } else {
      const end = operandEnd(text, index, to);
      const operand = text.slice(index, end);
      const parsed = parseRecurrence(operand, 'opensips-3.2', defaultZone);
      if (!parsed.ok) {
        const alone = text.trim() === operand;
        throw new ExpressionProblem(alone ? parsed.error : `recurrence at position ${index + 1}, ${parsed.error}`);
      }
      node = { kind: 'recurrence', recurrence: parsed.recurrence, negated };
      index = end;
    }
    parts.push(node);
    negated = false;
    needOperand = false;
  }
  if (negated) throw at(negationAt, '"!" needs a recurrence or "(" after it');
  if (needOperand && operator) throw at(operatorAt, `"${operator}" needs a recurrence after it`);
  const [first] = parts;
  if (!first) return null;
  if (parts.length === 1) return first;
  return { kind: operator === '/' ? 'any' : 'all', parts, negated: false };
}

function matchingParenthesis(text: string, open: number, to: number): number {
  let depth = 0;
  for (let index = open; index < to; index += 1) {
    const char = text.charAt(index);
    if (char === '(') depth += 1;
    else if (char === ')') depth -= 1;
    if (depth === 0) return index;
  }
  throw at(open, '"(" has no matching ")"');
}

/** Where a recurrence starting at `from` ends: a blank, `&`, or `/` after a `|`. */
function operandEnd(text: string, from: number, to: number): number {
  let seenBar = false;
  let index = from;
  for (; index < to; index += 1) {
    const char = text.charAt(index);
    if (char === '!' || char === '(' || char === ')') throw at(index, `"${char}" cannot appear inside a recurrence`);
    if (char === '|') seenBar = true;
    if (isBlank(char) || char === '&' || (char === '/' && seenBar)) break;
  }
  return index;
}
