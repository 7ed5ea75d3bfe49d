import type { DrCarrierRow, DrGatewayRow, DrRuleRow } from '../../../src/core/model/drouting-tables.js';
import { seededRandom } from '../seeded-random.js';

/**
 * A seeded sample of OpenSIPS 3.x drouting rows and the questions to ask of
 * them, for the differential against OpenSIPS itself: the same seed gives
 * the same rows and numbers, so a failure is reproduced from the seed alone.
 *
 * The sample leaves out the row shapes where we differ on purpose (docs/routing.md
 * "Routing": rule fallback, byxxx off-by-ones, negative weights, groupid
 * `1,x`, which 3.5.9 frees while still using it). It holds the shapes where
 * our defaults are OpenSIPS's: gateways listed twice in a rule, and both
 * directly and through a carrier (so a first-only carrier may repeat one
 * already offered); `W` lists with weights of 0 and none, some with every
 * weight 0 (list order); prefixes with `+` or a blank (skipped: the alphabet
 * is digits) and numbers starting with `+`; gateway sockets that are
 * OpenSIPS's own, malformed or foreign (each ignored or changing nothing).
 * And rows OpenSIPS 3.x loads in its own way or skips one by one: carriers
 * with flag 0x2 whatever their state (the state decides), an unknown
 * gateway in a list (left out), a `;` in a rule's list and a garbage
 * timerec (the rule skipped), a gateway with probe_mode 3 (skipped, and so
 * left out of lists).
 */

/**
 * do_routing's flags: none or L (strict length). Not F: OpenSIPS 3.5.9's
 * rule fallback stops where its documentation says it goes on, and ours
 * follows the documentation (docs/routing.md, "Checked against OpenSIPS"").
 */
export type RoutingFlags = '' | 'L';

export interface RoutingQuestion {
  number: string;
  group: number;
  flags: RoutingFlags;
}

export interface DroutingSample {
  seed: number;
  gateways: DrGatewayRow[];
  carriers: DrCarrierRow[];
  rules: DrRuleRow[];
  questions: RoutingQuestion[];
}

export interface SampleSize {
  gateways: number;
  carriers: number;
  rules: number;
  questions: number;
}

export const DEFAULT_SAMPLE_SIZE: SampleSize = { gateways: 24, carriers: 6, rules: 160, questions: 1000 };

/** A gateway id no dr_gateways row has. */
const UNKNOWN_GATEWAY = 'gw999';

/**
 * dr_gateways.socket values: OpenSIPS's own (opensips-process.ts listens
 * there; not ours), a foreign one, one that does not parse. Each leaves the
 * routing as it is on both sides.
 */
const SOCKETS = ['udp:127.0.0.150:5060', 'udp:192.0.2.1:5060', 'udp:127.0.0.1:50x'];

/** Groups 0 to 3 hold rules; group 4 holds none (no match on both sides). */
const GROUPS_WITH_RULES = 4;
/** Few prefix digits, so that prefixes nest and overlap. */
const PREFIX_DIGITS = '01234';

/**
 * timerec templates in the opensips-3.2 dialect, each made from a draw:
 * daily and weekly windows at random hours (open or closed at whatever
 * time the test runs), fixed windows in the past and the future, and an
 * expression with & and !.
 */
const TIMERECS: ((pick: (n: number) => number) => string)[] = [
  (pick) => `20200101T${two(pick(24))}0000||${1 + pick(12)}H|daily`,
  (pick) => `20200106T000000||24H|weekly|||${['MO,TU,WE', 'TH,FR', 'SA,SU', 'MO,WE,FR,SU'][pick(4)]}`,
  (pick) => `20200101T${two(pick(24))}${two(pick(60))}00||${1 + pick(6)}H|daily||${1 + pick(3)}`,
  (pick) => `20200101T000000||24H|monthly||||${1 + pick(28)}`,
  () => 'UTC|20200101T000000|20991231T000000',
  () => '20200101T000000|20210101T000000',
  (pick) => `20200101T${two(pick(24))}0000||${1 + pick(12)}H|daily&!20200106T000000||24H|weekly|||SA,SU`,
];

function two(n: number): string {
  return String(n).padStart(2, '0');
}

export function generateDroutingSample(seed: number, size: SampleSize = DEFAULT_SAMPLE_SIZE): DroutingSample {
  const random = seededRandom(seed);
  const pick = (n: number) => Math.floor(random() * n);
  const chance = (p: number) => random() < p;
  const digits = (length: number, alphabet = PREFIX_DIGITS) =>
    Array.from({ length }, () => alphabet[pick(alphabet.length)]).join('');

  const gateways: DrGatewayRow[] = Array.from({ length: size.gateways }, (_, i) => ({
    id: i + 1,
    gwid: `gw${i + 1}`,
    type: 0,
    address: `127.0.${100 + Math.floor(i / 200)}.${(i % 200) + 1}:5060`,
    strip: pick(3),
    pri_prefix: [null, '9', '00'][pick(3)] ?? null,
    attrs: null,
    // 3 is no probe_mode: OpenSIPS skips the gateway, and so do we.
    probe_mode: chance(0.05) ? 3 : pick(3),
    // 0 active, 1 disabled by admin, 2 disabled by probing: both skip it.
    state: chance(0.7) ? 0 : 1 + pick(2),
    socket: chance(0.15) ? (SOCKETS[pick(SOCKETS.length)] ?? null) : null,
    description: null,
  }));

  // W lists: weights 0-9 and some left out (read as 0); a third with every weight 0 or none (list order on both sides).
  const weighted = (entries: readonly string[]) => {
    const allZero = chance(0.3);
    return entries.map((entry) => (chance(0.15) ? entry : `${entry}=${allZero ? 0 : pick(10)}`));
  };

  // The first half are used directly by rules; the second half are shared out among the carriers,
  // some of which also list a direct one (a gateway then listed directly and through a carrier).
  const direct = gateways.slice(0, Math.ceil(size.gateways / 2)).map((gateway) => gateway.gwid);
  const owned = gateways.slice(direct.length).map((gateway) => gateway.gwid);
  const carriers: DrCarrierRow[] = Array.from({ length: size.carriers }, (_, i) => {
    const own = owned.filter((_, index) => index % size.carriers === i);
    if (chance(0.4)) own.splice(pick(own.length + 1), 0, direct[pick(direct.length)] ?? '');
    const firstOnly = chance(0.3);
    const sortAlg = firstOnly ? 'N' : chance(0.5) ? 'W' : 'N';
    // An unknown gateway is left out of the list by both.
    const listed = chance(0.2) ? [...own, UNKNOWN_GATEWAY] : own;
    const gwlist = (sortAlg === 'W' ? weighted(listed) : listed).join(',');
    // Flag 0x2 (disabled) is overwritten by the state column at load.
    const flags = (firstOnly ? 1 : 0) | (chance(0.3) ? 2 : 0);
    return {
      id: i + 1,
      carrierid: `cr${i + 1}`,
      gwlist,
      flags,
      sort_alg: sortAlg,
      state: chance(0.8) ? 0 : 1,
      attrs: null,
      description: null,
    };
  });

  // Mostly digits; a few with + (not in OpenSIPS's default alphabet) or a blank before or after (MariaDB's CHAR drops
  // a trailing one before either side reads it): both skip those rules, or read the same digits.
  const rulePrefix = () => {
    if (chance(0.05)) return '';
    const prefix = digits(1 + pick(5));
    return chance(0.04) ? `+${prefix}` : chance(0.02) ? ` ${prefix}` : chance(0.02) ? `${prefix} ` : prefix;
  };

  const rules: DrRuleRow[] = Array.from({ length: size.rules }, (_, i) => {
    const sortAlg = chance(0.3) ? 'W' : 'N';
    const entries = Array.from({ length: 1 + pick(4) }, () =>
      chance(0.05)
        ? UNKNOWN_GATEWAY
        : chance(0.7)
          ? (direct[pick(direct.length)] ?? '')
          : `#cr${1 + pick(size.carriers)}`,
    );
    // The same gateway or carrier twice in one list: offered once per listing by both.
    if (chance(0.15)) entries.splice(pick(entries.length + 1), 0, entries[pick(entries.length)] ?? '');
    // A 1.x separator: OpenSIPS 3.x skips the rule ("bad char ;"), so do we.
    const separator = entries.length > 1 && chance(0.03) ? ';' : ',';
    const groupid = chance(0.2)
      ? `${pick(GROUPS_WITH_RULES)},${pick(GROUPS_WITH_RULES)}`
      : String(pick(GROUPS_WITH_RULES));
    return {
      ruleid: i + 1,
      groupid: [...new Set(groupid.split(','))].join(','),
      prefix: rulePrefix(),
      timerec: chance(0.6) ? null : chance(0.03) ? 'garbage' : (TIMERECS[pick(TIMERECS.length)]?.(pick) ?? null),
      priority: pick(4),
      routeid: null,
      gwlist: (sortAlg === 'W' ? weighted(entries) : entries).join(separator),
      sort_alg: sortAlg,
      sort_profile: null,
      attrs: null,
      description: null,
    };
  });

  const questions: RoutingQuestion[] = Array.from({ length: size.questions }, () => ({
    // A leading + leaves only the default rules on both sides.
    number: `${chance(0.05) ? '+' : ''}${digits(1 + pick(9), chance(0.9) ? PREFIX_DIGITS : '0123456789')}`,
    group: pick(GROUPS_WITH_RULES + 1),
    flags: chance(0.25) ? 'L' : '',
  }));
  return { seed, gateways, carriers, rules, questions };
}
