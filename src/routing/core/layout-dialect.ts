import type { RowProblem } from '../../errors.js';
import { DROUTING_LAYOUTS } from '../../core/model/table-layouts.js';
import type { RoutingDialect } from './gateway-list.js';
import type { TimerecDialect } from './timerec/index.js';

/**
 * Whether routing.dialect and routing.timerecDialect fit the drouting
 * layout the store read off the columns (docs/schema.md "An operator's database").
 * Only what the columns prove is said: an integer gwid key is Kamailio's or
 * OpenSIPS 1.5–1.7's (gwlists with `;`, legacy timerecs), a dr_rules
 * sort_alg is OpenSIPS 3.x's (its gwlists reject `;` and take ids of
 * letters); the OpenSIPS 1.8–2.x tables span both gwlist grammars, and
 * 3.x tables both timerec formats (3.0 and 3.1 write the legacy one).
 * kamailio and opensips-1 read gwlists alike, so neither is said against
 * the other.
 *
 * A warning, not an error: the dialect picks only how gwlists and timerecs
 * are read, and a row the other grammar reads differently is already named
 * on its own (skipped, or an error with routing.strict). Kamailio's
 * integer ids in `,` lists read the same in both grammars, and an error
 * would stop every node on the database over rows that route as meant.
 */
export function layoutDialectWarnings(
  layout: string | undefined,
  options: { dialect: RoutingDialect; timerecDialect: TimerecDialect },
): RowProblem[] {
  const warnings: RowProblem[] = [];
  // Said of every row of the column the setting reads, the value being the layout the columns show.
  const said = (column: 'gwlist' | 'timerec', problem: string) =>
    warnings.push({
      table: 'dr_rules',
      row: '(every row)',
      column,
      value: layout,
      problem: `the drouting tables are this layout ${problem}`,
    });
  const legacyTimerecs = () => {
    if (options.timerecDialect === 'opensips-3.2') {
      said(
        'timerec',
        'and its releases write legacy timerecs, which routing.timerecDialect opensips-3.2 (OpenSIPS 3.2+) reads otherwise (its second field is dtend, not the duration); set routing.timerecDialect: legacy',
      );
    }
  };
  if (layout === DROUTING_LAYOUTS.kamailio) {
    if (options.dialect === 'opensips-3') {
      said(
        'gwlist',
        '(an integer gwid key), whose gwlists routing.dialect opensips-3 reads as OpenSIPS 3.x does (a ; makes the rule skipped, where Kamailio and OpenSIPS 1.x read it as a separator); set routing.dialect: kamailio (or opensips-1)',
      );
    }
    legacyTimerecs();
  } else if (layout === DROUTING_LAYOUTS.opensips18) {
    legacyTimerecs();
  } else if (layout === DROUTING_LAYOUTS.opensips3 && options.dialect !== 'opensips-3') {
    said(
      'gwlist',
      `(dr_rules has sort_alg), whose gwlists routing.dialect ${options.dialect} does not read as 3.x does (a gateway or carrier whose id is not an integer is skipped, and a ; separates where 3.x skips the rule); set routing.dialect: opensips-3`,
    );
  }
  return warnings;
}
