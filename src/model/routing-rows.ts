import type { RowProblem } from '../errors.js';
import type { DrCarrierRow, DrGatewayRow, DrGroupRow, DrGwListRow, DrRuleRow } from './drouting-tables.js';

/** Every drouting row that fits its columns, and every one that does not. */
export interface RoutingRows {
  gateways: DrGatewayRow[];
  rules: DrRuleRow[];
  carriers: DrCarrierRow[];
  groups: DrGroupRow[];
  gwLists: DrGwListRow[];
  problems: RowProblem[];
}
