import { describe, expect, it } from 'vitest';
import { decodeRows } from '../../../../src/core/model/decode-rows.js';
import { drGatewaysTable } from '../../../../src/core/model/drouting-tables.js';
import { sippeersTable } from '../../../../src/core/model/sippeers-table.js';

const goodGateway = {
  id: 1,
  gwid: 'gw1',
  type: 0,
  address: '127.0.0.2:5060',
  strip: 0,
  pri_prefix: null,
  attrs: null,
  probe_mode: 2,
  state: 0,
  socket: null,
  description: 'ok',
};

describe('decodeRows', () => {
  it('passes a row whose values fit, converting numeric text', () => {
    const { rows, problems } = decodeRows(drGatewaysTable, [{ ...goodGateway, strip: '2' }]);
    expect(problems).toEqual([]);
    expect(rows).toEqual([{ ...goodGateway, strip: 2 }]);
  });

  it('reports a non-numeric strip with table, row and column, and leaves the row out', () => {
    const { rows, problems } = decodeRows(drGatewaysTable, [
      goodGateway,
      { ...goodGateway, id: 7, gwid: 'gw7', strip: 'abc' },
    ]);
    expect(rows.map((row) => row.gwid)).toEqual(['gw1']);
    expect(problems).toEqual([
      {
        table: 'dr_gateways',
        row: 'id=7 (gwid "gw7")',
        column: 'strip',
        value: 'abc',
        problem: 'is not an integer (column type int(11) unsigned)',
      },
    ]);
  });

  it('reports every bad value of a row: NULL in NOT NULL, negative unsigned', () => {
    const { problems } = decodeRows(drGatewaysTable, [{ ...goodGateway, address: null, state: -1 }]);
    expect(problems.map((p) => [p.column, p.problem])).toEqual([
      ['address', 'is NULL, but the column is NOT NULL'],
      ['state', 'is negative (column type int(11) unsigned)'],
    ]);
  });

  it('checks enum columns of sippeers and accepts hyphenated column names', () => {
    const peer = Object.fromEntries(sippeersTable.columns.map((column) => [column.name, null])) as Record<
      string,
      unknown
    >;
    const good = { ...peer, id: 3, name: '1001', type: 'friend', 'call-limit': 2 };
    const { rows, problems } = decodeRows(sippeersTable, [good, { ...good, id: 4, name: '1002', type: 'buddy' }]);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.['call-limit']).toBe(2);
    expect(problems).toEqual([
      {
        table: 'sippeers',
        row: 'id=4 (name "1002")',
        column: 'type',
        value: 'buddy',
        problem: 'is not one of friend, user, peer',
      },
    ]);
  });
});
