/**
 * The gwlist grammar of dr_rules, dr_carriers and dr_gw_lists (OpenSIPS
 * routing.c): items separated by `,` or `|` (and the 1.x `;` group
 * separator, read as a plain separator), each `[#]id[=weight]`, blanks
 * allowed around tokens. `#` marks a reference to a carrier or, in
 * OpenSIPS 1.x data, to a dr_gw_lists row.
 */

export interface GwListItem {
  id: string;
  isReference: boolean;
  /** Only weighted sorting (`W`) reads it; absent means 1. */
  weight: number;
}

export type GwListParse = { ok: true; items: GwListItem[] } | { ok: false; error: string };

/** Gateway and carrier ids: letters, digits and OpenSIPS' default extra_id_chars. */
export const ID_PATTERN = /^[A-Za-z0-9_.-]+$/;

const ITEM = /^(#?)\s*([^=\s]+)\s*(?:=\s*(\S+))?$/;

export function parseGwList(text: string): GwListParse {
  if (text.trim() === '') return { ok: false, error: 'the list is empty' };
  const items: GwListItem[] = [];
  const pieces = text.split(/[,|;]/);
  for (const [index, raw] of pieces.entries()) {
    const piece = raw.trim();
    if (piece === '') return { ok: false, error: `item ${index + 1} is empty (two separators in a row, or one at an end)` };
    const match = ITEM.exec(piece);
    const id = match?.[2] ?? '';
    if (!match || !ID_PATTERN.test(id)) {
      return { ok: false, error: `item "${piece}": an id is letters, digits, _ - . with an optional # before it and =weight after it` };
    }
    const weightText = match[3];
    const weight = weightText === undefined ? 1 : Number(weightText);
    if (weightText !== undefined && !/^\d+$/.test(weightText)) {
      return { ok: false, error: `item "${piece}": the weight must be a whole number >= 0` };
    }
    items.push({ id, isReference: match[1] === '#', weight });
  }
  return { ok: true, items };
}
