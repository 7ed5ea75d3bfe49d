import type { RowProblem } from '../../errors.js';
import type { DrCarrierRow, DrGatewayRow, DrGroupRow, DrGwListRow, DrRuleRow } from './drouting-tables.js';

/** Every drouting row that fits its columns, and every one that does not. */
export interface RoutingRows {
  gateways: DrGatewayRow[];
  rules: DrRuleRow[];
  carriers: DrCarrierRow[];
  groups: DrGroupRow[];
  gwLists: DrGwListRow[];
  problems: RowProblem[];
  /** The drouting layout the store read the tables as (StoreLayout.name); absent for rows not read from tables. */
  layout?: string;
}

/** One page of dr_rules rows as the store read and checked them. */
export interface RulePage {
  rows: DrRuleRow[];
  problems: RowProblem[];
}

/** The drouting tables with the rules to come page by page (a reload of a million rules). */
export interface RoutingRowStream extends Omit<RoutingRows, 'rules'> {
  rulePages: AsyncIterable<RulePage>;
}
