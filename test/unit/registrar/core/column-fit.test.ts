import { describe, expect, it } from 'vitest';
import { fitToColumns } from '../../../../src/registrar/core/column-fit.js';
import { parseSipUri } from '../../../../src/sip/core/uri.js';

/** Asterisk's own sizes (alembic 4da0c5f79a9c, useragent widened to 255 by 1758e8bbf6b). */
const ASTERISK_SIZES = { ipaddr: 45, defaultuser: 40, fullcontact: 80, regserver: 20, useragent: 255 } as const;

describe('fitToColumns', () => {
  it('leaves values that fit, numbers and columns without a size as they are', () => {
    const columns = { fullcontact: 'sip:1001@192.0.2.7:5062', useragent: 'x'.repeat(255), port: 5062, lastms: 0 };
    expect(fitToColumns(columns, ASTERISK_SIZES)).toEqual({ columns, truncated: [] });
    expect(fitToColumns({ useragent: 'y'.repeat(1000) }, {})).toEqual({
      columns: { useragent: 'y'.repeat(1000) },
      truncated: [],
    });
  });

  it('cuts a long User-Agent to the column and says column, length and size', () => {
    const { columns, truncated } = fitToColumns(
      { useragent: 'u'.repeat(400), regserver: 'node-with-a-long-system-name' },
      ASTERISK_SIZES,
    );
    expect(columns).toEqual({ useragent: 'u'.repeat(255), regserver: 'node-with-a-long-sys' });
    expect(truncated).toEqual([
      { column: 'useragent', length: 400, size: 255 },
      { column: 'regserver', length: 28, size: 20 },
    ]);
  });

  it("cuts a long Contact before the last URI parameter that fits, so the row still holds a URI to the phone's host and port", () => {
    const contact = `sip:1001@127.0.0.201:5062;transport=udp;x-pad=${'a'.repeat(300)}`;
    const { columns, truncated } = fitToColumns({ fullcontact: contact }, ASTERISK_SIZES);
    expect(columns.fullcontact).toBe('sip:1001@127.0.0.201:5062;transport=udp');
    expect(truncated).toEqual([{ column: 'fullcontact', length: contact.length, size: 80 }]);
    const parsed = parseSipUri(columns.fullcontact ?? '');
    expect(parsed.ok && [parsed.uri.user, parsed.uri.host, parsed.uri.port]).toEqual(['1001', '127.0.0.201', 5062]);
  });

  it('cuts a Contact at the size itself when even its user and host do not fit', () => {
    const contact = `sip:${'9'.repeat(100)}@127.0.0.201;transport=udp`;
    expect(fitToColumns({ fullcontact: contact }, ASTERISK_SIZES).columns.fullcontact).toBe(contact.slice(0, 80));
  });

  it('counts characters as VARCHAR(n) does: one character outside the BMP is one, and is never split', () => {
    const agent = `${'😀'.repeat(10)}`;
    expect(fitToColumns({ useragent: agent }, { useragent: 10 })).toEqual({
      columns: { useragent: agent },
      truncated: [],
    });
    expect(fitToColumns({ useragent: agent }, { useragent: 3 }).columns.useragent).toBe('😀😀😀');
  });
});
