import { describe, expect, it } from 'vitest';
import { SchemaError } from '../../../../src/errors.js';
import {
  drCarriersTable,
  drGatewaysTable,
  drGroupsTable,
  drGwListsTable,
  drRulesTable,
} from '../../../../src/core/model/drouting-tables.js';
import {
  detectLayout,
  type PresentColumn,
  type PresentTables,
  sourceOf,
  type StoreLayout,
  type TableRead,
} from '../../../../src/core/model/table-layouts.js';
import type { TableSpec } from '../../../../src/core/model/columns.js';

/**
 * The layouts read off the columns present: OpenSIPS 3.x (our own tables),
 * OpenSIPS 1.8–2.x, Kamailio 5.x (its drouting-create.sql, column for
 * column), and what is no layout we read.
 */

/** A table's columns as `name type` words: `gwid int`, `address varchar(128)`. */
function columns(...declared: string[]): Map<string, PresentColumn> {
  return new Map(
    declared.map((text) => {
      const [name = '', sqlType = ''] = text.split(' ');
      const holds = /int/i.test(sqlType) ? 'integer' : /char|text|enum/i.test(sqlType) ? 'text' : 'other';
      return [name.toLowerCase(), { name, sqlType, holds }];
    }),
  );
}

/** A table exactly as our migrations create it. */
function ours(spec: TableSpec): Map<string, PresentColumn> {
  return columns(...spec.columns.map((column) => `${column.name} ${column.mysqlType.replace(' unsigned', '')}`));
}

/** Kamailio 5.6's drouting tables (its mysql/drouting-create.sql). */
const KAMAILIO: PresentTables = new Map([
  ['version', columns('id int', 'table_name varchar(32)', 'table_version int')],
  [
    'dr_gateways',
    columns(
      'gwid int',
      'type int',
      'address varchar(128)',
      'strip int',
      'pri_prefix varchar(64)',
      'attrs varchar(255)',
      'description varchar(128)',
    ),
  ],
  [
    'dr_rules',
    columns(
      'ruleid int',
      'groupid varchar(255)',
      'prefix varchar(64)',
      'timerec varchar(255)',
      'priority int',
      'routeid varchar(64)',
      'gwlist varchar(255)',
      'description varchar(128)',
    ),
  ],
  ['dr_gw_lists', columns('id int', 'gwlist varchar(255)', 'description varchar(128)')],
  [
    'dr_groups',
    columns('id int', 'username varchar(64)', 'domain varchar(128)', 'groupid int', 'description varchar(128)'),
  ],
]);

function layoutOf(present: PresentTables): StoreLayout {
  const result = detectLayout(present);
  if (!result.ok) throw new Error(`expected a layout, got ${JSON.stringify(result.problems)}`);
  return result.layout;
}

function fixedValues(read: TableRead | undefined): Record<string, unknown> {
  return Object.fromEntries(
    (read?.columns ?? []).flatMap((column) => ('value' in column ? [[column.name, column.value]] : [])),
  );
}

describe('the layout of the tables present', () => {
  it('reads our own OpenSIPS 3.x tables column for column, the optional ones absent as empty', () => {
    const layout = layoutOf(
      new Map([
        [drGatewaysTable.name, ours(drGatewaysTable)],
        [drRulesTable.name, ours(drRulesTable)],
      ]),
    );
    expect(layout.name).toBe('OpenSIPS 3.x');
    for (const read of [layout.gateways, layout.rules]) {
      expect(read.columns.every((column) => 'from' in column && column.from === column.name)).toBe(true);
    }
    expect([layout.carriers, layout.groups, layout.gwLists, layout.peers, layout.addresses]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(layout.sharedValues).toBe(false);
    expect(layout.notes).toEqual([
      'dr_carriers: absent, read as empty',
      'dr_groups: absent, read as empty',
      'dr_gw_lists: absent, read as empty',
      'sippeers: absent, read as empty',
      'address: absent, read as empty',
    ]);
  });

  it("reads Kamailio 5.6's tables: gwid as the gateways' id and gwid, OpenSIPS's defaults for what Kamailio lacks, no carriers", () => {
    const layout = layoutOf(KAMAILIO);
    expect(layout.name).toBe('Kamailio 5.x, OpenSIPS 1.5–1.7');
    expect(layout.gateways.orderBy).toBe('gwid');
    expect(sourceOf(layout.gateways, 'id')).toBe('gwid');
    expect(sourceOf(layout.gateways, 'gwid')).toBe('gwid');
    expect(sourceOf(layout.gateways, 'attrs')).toBe('attrs');
    expect(fixedValues(layout.gateways)).toEqual({ probe_mode: 0, state: 0, socket: null });
    expect(fixedValues(layout.rules)).toEqual({ sort_alg: 'N', sort_profile: null, attrs: null });
    expect(fixedValues(layout.gwLists)).toEqual({});
    expect(fixedValues(layout.groups)).toEqual({});
    expect(layout.carriers).toBeUndefined();
    expect(layout.notes).toContain('dr_gateways: no id column, gwid read as it (Kamailio 5.x, OpenSIPS 1.5–1.7)');
    expect(layout.notes).toContain('dr_gateways: no probe_mode, state, socket, read as 0, 0, null');
    expect(layout.notes).toContain('dr_rules: no sort_alg, sort_profile, attrs, read as "N", null, null');
    expect(layout.notes).toContain('dr_carriers: absent, read as empty');
  });

  it("reads OpenSIPS 1.8's tables: no state or socket, no sort_alg, a carrier without state", () => {
    const layout = layoutOf(
      new Map([
        [
          'dr_gateways',
          columns(
            'id int',
            'gwid char(64)',
            'type int',
            'address char(128)',
            'strip int',
            'pri_prefix char(16)',
            'attrs char(255)',
            'probe_mode int',
            'description char(128)',
          ),
        ],
        [
          'dr_rules',
          columns(
            'ruleid int',
            'groupid char(255)',
            'prefix char(64)',
            'timerec char(255)',
            'priority int',
            'routeid char(255)',
            'gwlist char(255)',
            'attrs char(255)',
            'description char(128)',
          ),
        ],
        [
          'dr_carriers',
          columns(
            'id int',
            'carrierid char(64)',
            'gwlist char(255)',
            'flags int',
            'attrs char(255)',
            'description char(128)',
          ),
        ],
        ['dr_groups', ours(drGroupsTable)],
      ]),
    );
    expect(layout.name).toBe('OpenSIPS 1.8–2.x');
    expect(sourceOf(layout.gateways, 'id')).toBe('id');
    expect(fixedValues(layout.gateways)).toEqual({ state: 0, socket: null });
    expect(fixedValues(layout.rules)).toEqual({ sort_alg: 'N', sort_profile: null });
    expect(fixedValues(layout.carriers)).toEqual({ state: 0, sort_alg: 'N' });
    expect(sourceOf(layout.carriers as TableRead, 'state')).toBeUndefined();
  });

  it("reads Kamailio's address table: ip from ip_addr, any protocol", () => {
    const layout = layoutOf(
      new Map([
        ...KAMAILIO,
        [
          'address',
          columns('id int', 'grp int', 'ip_addr varchar(50)', 'mask int', 'port smallint', 'tag varchar(64)'),
        ],
      ]),
    );
    expect(sourceOf(layout.addresses as TableRead, 'ip')).toBe('ip_addr');
    expect(fixedValues(layout.addresses)).toEqual({ proto: 'any', pattern: null, context_info: null });
  });

  it('reads a text column where an integer is read, leaving its values to the row checks', () => {
    const loosened = new Map([
      ...KAMAILIO,
      [
        'dr_gateways',
        columns(
          'gwid int',
          'type int',
          'address varchar(128)',
          'strip varchar(64)',
          'pri_prefix varchar(64)',
          'attrs varchar(255)',
          'description varchar(128)',
        ),
      ],
    ]);
    expect(sourceOf(layoutOf(loosened).gateways, 'strip')).toBe('strip');
  });

  it('selects columns by their own spelling, whatever their case', () => {
    const upper = new Map([
      ...KAMAILIO,
      ['dr_gw_lists', columns('ID int', 'GWLIST varchar(255)', 'Description varchar(128)')],
    ]);
    const read = layoutOf(upper).gwLists as TableRead;
    expect(read.columns).toEqual([
      { name: 'id', from: 'ID' },
      { name: 'gwlist', from: 'GWLIST' },
      { name: 'description', from: 'Description' },
    ]);
    expect(read.orderBy).toBe('ID');
  });

  it('names every missing table, missing column and column of a type it cannot read, and gives no layout', () => {
    const result = detectLayout(
      new Map([
        [
          'dr_rules',
          columns(
            'ruleid int',
            'groupid char(255)',
            'prefix char(64)',
            'timerec char(255)',
            'priority int',
            'routeid char(255)',
            'description char(128)',
          ),
        ],
        [
          'dr_carriers',
          new Map([...ours(drCarriersTable), ['flags', { name: 'flags', sqlType: 'double', holds: 'other' as const }]]),
        ],
        [
          'dr_gw_lists',
          new Map([...ours(drGwListsTable), ['gwlist', { name: 'gwlist', sqlType: 'blob', holds: 'other' as const }]]),
        ],
      ]),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      { table: 'dr_gateways' },
      { table: 'dr_rules', column: 'gwlist', problem: 'missing' },
      {
        table: 'dr_carriers',
        column: 'flags',
        problem: 'is double: it must be an integer or text type (int, bigint, char, varchar …)',
      },
      {
        table: 'dr_gw_lists',
        column: 'gwlist',
        problem: 'is blob: it must be a text or integer type (char, varchar, text, int …)',
      },
    ]);
  });

  it('refuses a dr_gateways with neither id nor an integer gwid to stand in for it', () => {
    const textKey = new Map([
      ...KAMAILIO,
      [
        'dr_gateways',
        columns(
          'gwid char(64)',
          'type int',
          'address varchar(128)',
          'strip int',
          'pri_prefix varchar(64)',
          'attrs varchar(255)',
          'description varchar(128)',
        ),
      ],
    ]);
    const result = detectLayout(textKey);
    expect(result.ok ? [] : result.problems).toEqual([
      {
        table: 'dr_gateways',
        column: 'gwid',
        problem:
          'is char(64): with no id column, gwid stands in for it (Kamailio 5.x, OpenSIPS 1.5–1.7) and must be an integer type (int, smallint, bigint …)',
      },
    ]);
    const noKey = new Map([
      ...KAMAILIO,
      [
        'dr_gateways',
        columns(
          'type int',
          'address varchar(128)',
          'strip int',
          'pri_prefix varchar(64)',
          'attrs varchar(255)',
          'description varchar(128)',
        ),
      ],
    ]);
    expect((detectLayout(noKey) as { problems: unknown[] }).problems).toEqual([
      {
        table: 'dr_gateways',
        column: 'id',
        problem: 'missing (nor gwid, its Kamailio 5.x, OpenSIPS 1.5–1.7 stand-in)',
      },
      { table: 'dr_gateways', column: 'gwid', problem: 'missing' },
    ]);
  });
});

describe('DROUTER_ERR_SCHEMA', () => {
  it('says which tables to create and which columns cannot be read, each with its table', () => {
    const error = new SchemaError('mysql://root:***@db/opensips', [
      { table: 'dr_gateways' },
      { table: 'dr_rules', column: 'gwlist', problem: 'missing' },
      { table: 'dr_gw_lists', column: 'gwlist', problem: 'is blob: it must be a text type' },
    ]);
    expect(error.code).toBe('DROUTER_ERR_SCHEMA');
    expect(error.message).toBe(
      [
        'the store at mysql://root:***@db/opensips lacks a table (dr_gateways): run drouter migrate',
        'the store at mysql://root:***@db/opensips has 2 columns sip-drouter cannot read (it reads the OpenSIPS 1.5–3.x and Kamailio 5.x drouting layouts; docs/schema.md "Schema"):',
        '  dr_rules.gwlist: missing',
        '  dr_gw_lists.gwlist: is blob: it must be a text type',
      ].join('\n'),
    );
  });
});
