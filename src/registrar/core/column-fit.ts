import type { RegistrationColumnSizes, RegistrationColumns } from '../../core/model/sippeers-table.js';

/**
 * A registration's values cut to the sizes of the sippeers columns they go
 * to. chan_sip keeps the whole Contact and User-Agent in memory and sends
 * its UPDATE as it is: MySQL in strict mode refuses the row ("Data too long
 * for column") and the peer's row is not updated at all. Here the binding
 * (the cache) keeps every value whole, so calls still reach the phone at its
 * full contact, and only the row's copy is shortened. Pure.
 */

/** A value that did not fit: the column, the value's length and the column's size, in characters. */
export interface Truncation {
  column: keyof RegistrationColumns;
  length: number;
  size: number;
}

/** The columns as the row can hold them, and what was cut. */
export function fitToColumns(
  columns: Partial<RegistrationColumns>,
  sizes: RegistrationColumnSizes,
): { columns: Partial<RegistrationColumns>; truncated: Truncation[] } {
  const fitted: Partial<RegistrationColumns> = { ...columns };
  const truncated: Truncation[] = [];
  for (const [name, value] of Object.entries(columns) as [keyof RegistrationColumns, unknown][]) {
    const size = sizes[name];
    if (typeof value !== 'string' || size === undefined) continue;
    // VARCHAR(n) counts characters, not UTF-16 units: a character outside the BMP is one.
    const characters = [...value];
    if (characters.length <= size) continue;
    (fitted as Record<string, unknown>)[name] =
      name === 'fullcontact' ? shortenedUri(characters, size) : characters.slice(0, size).join('');
    truncated.push({ column: name, length: characters.length, size });
  }
  return { columns: fitted, truncated };
}

/**
 * A Contact URI cut before the last URI parameter (`;`) or header (`?`) that
 * fits, so the row still names a URI an Asterisk reading it can send to
 * (`sip:1001@192.0.2.7:5062;transport=udp`, its long `;x-…=…` dropped);
 * cut at the size itself when even `scheme:user@host:port` does not fit.
 */
function shortenedUri(characters: readonly string[], size: number): string {
  // The host begins after the user's `@` (or the scheme's `:`): no cut before it leaves a URI.
  const hostStart = characters.includes('@') ? characters.indexOf('@') : characters.indexOf(':');
  for (let end = size; end > hostStart; end--) {
    if (characters[end] === ';' || characters[end] === '?') return characters.slice(0, end).join('');
  }
  return characters.slice(0, size).join('');
}
