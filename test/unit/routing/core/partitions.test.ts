import { describe, expect, it } from 'vitest';
import { formatRowProblem } from '../../../../src/errors.js';
import type { DrPartitionRow } from '../../../../src/core/model/partitions-table.js';
import { RoutingTableBuilder } from '../../../../src/routing/core/build-routing-table.js';
import { LoadProblems } from '../../../../src/routing/core/load-problems.js';
import {
  choosePartition,
  problemOfPartition,
  qualifiedId,
  readPartitionDefinitions,
  splitQualifiedId,
  storeUrlOf,
} from '../../../../src/routing/core/partitions.js';
import { BUILD_OPTIONS, carrierRow, gatewayRow, ruleRow, rows } from '../../../support/routing-rows.js';

const PARTITIONS_URL = 'mysql://drouter@db.example/opensips';

function partitionRow(id: number, name: string, values: Partial<DrPartitionRow> = {}): DrPartitionRow {
  return {
    id,
    partition_name: name,
    db_url: null,
    drd_table: null,
    drr_table: null,
    drg_table: null,
    drc_table: null,
    ...values,
  };
}

function read(partitionRows: DrPartitionRow[]) {
  const problems = new LoadProblems();
  const definitions = readPartitionDefinitions(partitionRows, PARTITIONS_URL, problems);
  return { definitions, errors: problems.errors.map(formatRowProblem) };
}

describe('dr_partitions rows, as OpenSIPS 3.x get_config_from_db reads them', () => {
  it('a NULL or empty db_url is the database of dr_partitions; NULL or empty table names are the usual ones', () => {
    const { definitions, errors } = read([
      partitionRow(1, 'a'),
      partitionRow(2, 'b', {
        db_url: '',
        drd_table: '',
        drr_table: 'b_rules',
        drg_table: ' b_groups ',
        drc_table: 'b_carriers',
      }),
    ]);
    expect(errors).toEqual([]);
    expect(definitions).toEqual([
      {
        name: 'a',
        url: PARTITIONS_URL,
        tables: { gateways: 'dr_gateways', rules: 'dr_rules', groups: 'dr_groups', carriers: 'dr_carriers' },
      },
      {
        name: 'b',
        url: PARTITIONS_URL,
        tables: { gateways: 'dr_gateways', rules: 'b_rules', groups: 'b_groups', carriers: 'b_carriers' },
      },
    ]);
  });

  it("reads OpenSIPS's db_sqlite URL as a store URL and a mysql:// one as it is", () => {
    expect(storeUrlOf('sqlite:///var/lib/opensips/dr.db', PARTITIONS_URL)).toEqual({
      ok: true,
      url: 'sqlite:/var/lib/opensips/dr.db',
    });
    expect(storeUrlOf('sqlite:relative.db', PARTITIONS_URL)).toEqual({ ok: true, url: 'sqlite:relative.db' });
    expect(storeUrlOf('mysql://opensips:rw@10.0.0.5/tenants', PARTITIONS_URL)).toEqual({
      ok: true,
      url: 'mysql://opensips:rw@10.0.0.5/tenants',
    });
  });

  it('refuses the load on a partition it cannot read, naming the row: a database it has no driver for, a name it cannot key ids by, a name given twice', () => {
    const { definitions, errors } = read([
      partitionRow(1, 'ok'),
      partitionRow(2, 'pg', { db_url: 'postgres://opensips@localhost/opensips' }),
      partitionRow(3, 'has:colon'),
      partitionRow(4, 'ok'),
    ]);
    expect(definitions.map((definition) => definition.name)).toEqual(['ok']);
    expect(errors).toEqual([
      'dr_partitions row id=2 (partition_name "pg"): column db_url = "postgres://opensips@localhost/opensips": a postgres database cannot be read: sip-drouter reads mysql:// (MySQL, MariaDB) and sqlite: databases',
      'dr_partitions row id=3 (partition_name "has:colon"): column partition_name = "has:colon": a partition name is letters, digits and _ . - + ~ (it is matched against Request-URI hosts and qualifies gateway ids as name:gwid)',
      'dr_partitions row id=4 (partition_name "ok"): column partition_name = "ok": partition ok is also row id=1',
    ]);
  });
});

describe('which partition routes a request', () => {
  const names = new Set(['tenant-a.example', 'tenant-b']);
  const options = { defaultPartition: 'tenant-b', byDomain: true };

  it('the one asked for, else the Request-URI host that names one (any case), else routing.partitions.default', () => {
    expect(choosePartition(names, { partition: 'tenant-b', host: 'tenant-a.example' }, options)).toMatchObject({
      ok: true,
      name: 'tenant-b',
    });
    expect(choosePartition(names, { host: 'Tenant-A.Example' }, options)).toMatchObject({
      ok: true,
      name: 'tenant-a.example',
    });
    expect(choosePartition(names, { host: '192.0.2.1' }, options)).toEqual({
      ok: true,
      name: 'tenant-b',
      detail: 'the Request-URI host 192.0.2.1 names no partition: routing.partitions.default tenant-b',
    });
  });

  it('byDomain off: the host is not looked at', () => {
    expect(choosePartition(names, { host: 'tenant-a.example' }, { ...options, byDomain: false })).toMatchObject({
      ok: true,
      name: 'tenant-b',
    });
  });

  it('none: says why (no such partition; no default; a default that is not in dr_partitions)', () => {
    expect(choosePartition(names, { partition: 'nope' }, options)).toEqual({
      ok: false,
      detail: 'no partition nope in dr_partitions',
    });
    expect(choosePartition(names, { host: 'x.example' }, { defaultPartition: null, byDomain: true })).toEqual({
      ok: false,
      detail: 'the Request-URI host x.example names no partition and routing.partitions.default is none',
    });
    expect(choosePartition(names, {}, { defaultPartition: 'gone', byDomain: true })).toEqual({
      ok: false,
      detail: 'no partition named by the request, and routing.partitions.default gone is not in dr_partitions',
    });
  });
});

describe("a partition's table", () => {
  it('keys its gateways and carriers partition:id, resolving its rows by their own ids', () => {
    const built = new RoutingTableBuilder(
      rows({ gateways: [gatewayRow('gw1'), gatewayRow('gw2')], carriers: [carrierRow('c1', 'gw2')] }),
      BUILD_OPTIONS,
      'tenant-a',
    )
      .addRules([ruleRow(1, '44', 'gw1,#c1')])
      .finish();
    if (!built.ok) throw new Error(JSON.stringify(built.errors));
    expect([...built.table.gateways.keys()]).toEqual(['tenant-a:gw1', 'tenant-a:gw2']);
    expect([...built.table.carriers.keys()]).toEqual(['tenant-a:c1']);
    expect(built.table.gateways.get('tenant-a:gw1')?.gwid).toBe('tenant-a:gw1');
  });

  it("names its problems with the partition and the partition's own table names", () => {
    const named = problemOfPartition('tenant-a', {
      gateways: 'a_gateways',
      rules: 'a_rules',
      groups: 'dr_groups',
      carriers: 'a_carriers',
    });
    expect(named({ table: 'dr_rules', row: 'ruleid=3', column: 'timerec', value: 'x', problem: 'p' }).table).toBe(
      'tenant-a:a_rules',
    );
    expect(named({ table: 'dr_groups', row: 'id=1', column: 'domain', value: '', problem: 'p' }).table).toBe(
      'tenant-a:dr_groups',
    );
  });

  it('qualified ids come apart again; an unqualified one belongs to no partition', () => {
    expect(splitQualifiedId(qualifiedId('tenant-a', 'gw1'))).toEqual({ partition: 'tenant-a', id: 'gw1' });
    expect(qualifiedId('', 'gw1')).toBe('gw1');
    expect(splitQualifiedId('gw1')).toEqual({ partition: '', id: 'gw1' });
  });
});
