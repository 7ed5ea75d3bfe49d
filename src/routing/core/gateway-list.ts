/**
 * The gwlist grammar of dr_rules, dr_carriers and dr_gw_lists, as OpenSIPS
 * 3.x reads it (routing.c parse_destination_list): items `[#]id[=weight]`
 * separated by `,` or `|`, blanks allowed before an item, around `=` and
 * after a weight, a separator at the very end ignored. `#` marks a carrier
 * or, in OpenSIPS 1.x data, a dr_gw_lists row. An empty list is a list of
 * nothing (a rule that only runs its routeid). The other dialects differ in
 * their separators and id characters only: OpenSIPS 1.x and Kamailio also
 * separate with `;` (1.x's group separator, read as a plain one) and their
 * gateway ids are integers.
 */

export interface GwListItem {
  id: string;
  isReference: boolean;
  /** Only weighted sorting (`W`) reads it; absent means 0, as OpenSIPS zeroes each entry before reading it (routing.c). */
  weight: number;
}

export type GwListParse = { ok: true; items: GwListItem[] } | { ok: false; error: string };

/** Which release's tables are read: picks the list separators and the id characters. */
export type RoutingDialect = 'opensips-3' | 'opensips-1' | 'kamailio';

export interface GwListGrammar {
  readonly separators: string;
  /** One character of a gateway or carrier id. */
  readonly idChar: RegExp;
  /** Said in errors: what an id is made of. */
  readonly idChars: string;
}

/** Gateway and carrier ids of 3.x: letters, digits and OpenSIPS' default extra_id_chars `_-.`. */
export const OPENSIPS_3_GRAMMAR: GwListGrammar = {
  separators: ',|',
  idChar: /[A-Za-z0-9_.-]/,
  idChars: 'letters, digits, _ - .',
};

const INTEGER_ID_GRAMMAR: GwListGrammar = { separators: ',|;', idChar: /[0-9]/, idChars: 'digits' };

export function gwListGrammar(dialect: RoutingDialect): GwListGrammar {
  return dialect === 'opensips-3' ? OPENSIPS_3_GRAMMAR : INTEGER_ID_GRAMMAR;
}

/** A whole gateway or carrier id of the dialect (dr_gateways.gwid, dr_carriers.carrierid). */
export function isValidId(id: string, grammar: GwListGrammar): boolean {
  return id !== '' && [...id].every((char) => grammar.idChar.test(char));
}

const BLANK = /[ \t\r\n]/;

/** strtol's reading of a weight: blanks, an optional sign, digits. */
const WEIGHT = /^\s*([+-]?\d+)/;

export function parseGwList(text: string, grammar: GwListGrammar = OPENSIPS_3_GRAMMAR): GwListParse {
  const items: GwListItem[] = [];
  let at = 0;
  const skipBlanks = () => {
    while (at < text.length && BLANK.test(text[at] ?? '')) at++;
  };
  const where = () => `at position ${at + 1}`;
  while (at < text.length) {
    skipBlanks();
    const isReference = text[at] === '#';
    if (isReference) at++;
    const idStart = at;
    while (at < text.length && grammar.idChar.test(text[at] ?? '')) at++;
    if (at === idStart) {
      const found = at < text.length ? JSON.stringify(text[at]) : 'the end';
      return { ok: false, error: `${found} ${where()} where an id (${grammar.idChars}) was expected` };
    }
    const id = text.slice(idStart, at);
    skipBlanks();
    let weight = 0;
    if (text[at] === '=') {
      at++;
      const match = WEIGHT.exec(text.slice(at));
      if (!match?.[1]) return { ok: false, error: `the weight of ${id} ${where()} is not a whole number` };
      weight = Number(match[1]);
      at += match[0].length;
      skipBlanks();
    }
    items.push({ id, isReference, weight });
    if (at < text.length) {
      const char = text[at] ?? '';
      if (!grammar.separators.includes(char)) {
        return {
          ok: false,
          error: `${JSON.stringify(char)} ${where()} is not a separator (${[...grammar.separators].join(' ')})`,
        };
      }
      at++;
    }
  }
  return { ok: true, items };
}
