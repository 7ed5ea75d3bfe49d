import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { configSchema } from '../../../src/config/schema.js';
import type { RouteDecision } from '../../../src/routing/core/route-call.js';
import { routingServiceOptions } from '../../../src/routing/core/routing-options.js';
import { RoutingService } from '../../../src/routing/routing-service.js';
import { prepareStore } from '../../../src/store/knex/open-store.js';
import { mysqlOptions, mysqlUrlFor } from '../databases.js';
import { UdpPeer } from '../udp-peer.js';
import { waitFor } from '../wait-for.js';
import {
  type DroutingSample,
  generateDroutingSample,
  type RoutingQuestion,
  type SampleSize,
} from './drouting-sample.js';
import { OpenSipsProcess } from './opensips-process.js';
import { askOpenSips, type OfferedGateway, type RoutingAnswer } from './opensips-routing.js';

/**
 * The differential against OpenSIPS: one seeded sample of drouting rows,
 * written with OpenSIPS's own DDL into a fresh MariaDB database, loaded by
 * an OpenSIPS of our own and by our routing service; every question asked
 * of both at the same instant. Used by the test and by `npm run bench --
 * --only opensips`.
 */

export interface DifferentialSetup {
  /** A MariaDB URL whose user may create and drop databases (DROUTER_TEST_MYSQL_URL). */
  mysqlUrl: string;
  /** The built OpenSIPS tree (DROUTER_TEST_OPENSIPS_DIR). */
  opensipsDir: string;
  /** Its own 127.0.0.N: OpenSIPS listens there on `port`, the asking peer beside it. */
  address: string;
  port: number;
  seed: number;
  size?: SampleSize;
}

export interface Disagreement {
  question: RoutingQuestion;
  at: string;
  opensips: RoutingAnswer;
  ours: OurAnswer;
}

export interface DifferentialResult {
  sample: DroutingSample;
  asked: number;
  agreed: number;
  /** How many answers of each outcome both gave. */
  outcomes: Record<RoutingAnswer['outcome'], number>;
  disagreements: Disagreement[];
}

export async function runDifferential(setup: DifferentialSetup): Promise<DifferentialResult> {
  const sample = generateDroutingSample(setup.seed, setup.size);
  const database = `${new URL(setup.mysqlUrl).pathname.slice(1)}_opensips_${setup.seed}_${process.pid}`;
  const admin = await mysql.createConnection(mysqlOptions(setup.mysqlUrl));
  await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin.query(`CREATE DATABASE \`${database}\``);
  const opensips = new OpenSipsProcess({
    dir: setup.opensipsDir,
    address: setup.address,
    port: setup.port,
    dbUrl: opensipsDbUrl(setup.mysqlUrl, database),
  });
  const peer = await UdpPeer.bind(setup.address);
  try {
    await writeSample(setup, database, sample);
    const routing = await ourRouting(mysqlUrlFor(setup.mysqlUrl, database));
    try {
      await opensips.start();
      const to = { address: setup.address, port: setup.port };
      await waitFor(
        'OpenSIPS to answer',
        20_000,
        () =>
          opensips.running
            ? askOpenSips(peer, to, { number: '0', group: 0, flags: '' }, 300)
            : Promise.reject(new Error('it exited')),
        { detail: () => opensips.log },
      );
      return await compareAll(
        sample,
        (question) => askOpenSips(peer, to, question),
        routing.service,
        () => opensips.log,
      );
    } finally {
      await routing.close();
    }
  } finally {
    peer.close();
    await opensips.stop();
    await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await admin.end();
  }
}

/** OpenSIPS's db_mysql URL: mysql://user[:password]@host[:port]/database. */
export function opensipsDbUrl(mysqlUrl: string, database: string): string {
  const url = new URL(mysqlUrl);
  const credentials = url.password ? `${url.username}:${url.password}` : url.username;
  return `mysql://${credentials}@${url.hostname}${url.port ? `:${url.port}` : ''}/${database}`;
}

/** The sample's rows in OpenSIPS's own tables. */
function writeSample(setup: DifferentialSetup, database: string, sample: DroutingSample): Promise<void> {
  return writeOpensipsTables(setup, database, {
    dr_gateways: sample.gateways,
    dr_carriers: sample.carriers,
    dr_rules: sample.rules,
  });
}

/** The tables as OpenSIPS creates them in `database` (its scripts/mysql DDL, untouched), then `rows`, table by table. */
export async function writeOpensipsTables(
  setup: Pick<DifferentialSetup, 'mysqlUrl' | 'opensipsDir'>,
  database: string,
  rows: Readonly<Record<string, readonly object[]>>,
): Promise<void> {
  const connection = await mysql.createConnection(mysqlOptions(setup.mysqlUrl, database));
  try {
    for (const file of ['standard-create.sql', 'drouting-create.sql'])
      await connection.query(readFileSync(join(setup.opensipsDir, 'scripts', 'mysql', file), 'utf8'));
    for (const [table, tableRows] of Object.entries(rows)) {
      for (const row of tableRows) await connection.query(`INSERT INTO \`${table}\` SET ?`, [row]);
    }
  } finally {
    await connection.end();
  }
}

/** Our routing service on the same database, read as OpenSIPS left it (a start creates no table in it). */
async function ourRouting(url: string): Promise<{ service: RoutingService; close(): Promise<void> }> {
  const { store } = await prepareStore(url, { seedExample: false });
  const service = new RoutingService(
    store,
    routingServiceOptions(configSchema.parse({}).routing, 'UTC', configSchema.parse({}).sip),
    { now: () => new Date() },
  );
  try {
    await service.load();
  } catch (error) {
    await store.close();
    throw error;
  }
  return { service, close: () => store.close() };
}

async function compareAll(
  sample: DroutingSample,
  askOpensips: (question: RoutingQuestion) => Promise<RoutingAnswer | undefined>,
  routing: RoutingService,
  opensipsLog: () => string,
): Promise<DifferentialResult> {
  const result: DifferentialResult = {
    sample,
    asked: 0,
    agreed: 0,
    outcomes: { routed: 0, 'no-gateway': 0, 'no-rule': 0 },
    disagreements: [],
  };
  const fixedOrder = ruleOrderIsFixed(sample);
  for (const question of sample.questions) {
    // Asked at the same instant: ours before and after OpenSIPS's answer; a timerec edge between the two may go either way.
    const before = new Date();
    const theirs = await askOpensips(question);
    const after = new Date();
    if (!theirs)
      throw new Error(
        `OpenSIPS did not answer ${JSON.stringify(question)} (seed ${sample.seed}); it said:\n${opensipsLog()}`,
      );
    const ours = [before, after].map((at) =>
      ourAnswer(
        routing.route({
          number: question.number,
          group: question.group,
          at,
          strictLength: question.flags === 'L',
          ruleFallback: false,
          explain: false,
        }),
        fixedOrder,
      ),
    );
    result.asked++;
    const same = ours.find((answer) => sameAnswer(theirs, answer));
    if (same) {
      result.agreed++;
      result.outcomes[same.answer.outcome]++;
    } else {
      result.disagreements.push({
        question,
        at: before.toISOString(),
        opensips: theirs,
        ours: ours[0] ?? { answer: { outcome: 'no-rule' }, orderFixed: true },
      });
    }
  }
  return result;
}

/** Our decision in the differential's terms; `orderFixed` says whether the order of its gateways is fixed (every sort involved is N). */
interface OurAnswer {
  answer: RoutingAnswer;
  orderFixed: boolean;
}

export function ourAnswer(decision: RouteDecision, fixedOrder: (ruleId: number) => boolean): OurAnswer {
  if (decision.outcome === 'no-rule' || decision.ruleId === null)
    return { answer: { outcome: 'no-rule' }, orderFixed: true };
  if (decision.outcome === 'no-gateway')
    return { answer: { outcome: 'no-gateway', ruleId: decision.ruleId }, orderFixed: true };
  const gateways = decision.targets.map((target) => ({
    gwid: target.gateway.gwid,
    carrierid: target.carrierid ?? '',
    user: /^sips?:([^@]*)@/.exec(target.uri ?? '')?.[1] ?? '',
  }));
  return {
    answer: { outcome: 'routed', ruleId: decision.ruleId, gateways },
    orderFixed: decision.targets.every((target) => fixedOrder(target.ruleId)),
  };
}

/**
 * Whether a list's order is fixed: N, or W with every weight 0 or none,
 * which OpenSIPS 3.5.9 keeps in list order (routing.zeroWeightOrder list).
 */
function listOrderIsFixed(sortAlg: string, gwlist: string): boolean {
  return sortAlg !== 'W' || gwlist.split(',').every((entry) => Number(entry.split('=')[1] ?? 0) === 0);
}

/** Whether a rule's gateway order is fixed: its own list's and that of every carrier it lists. */
function ruleOrderIsFixed(sample: DroutingSample): (ruleId: number) => boolean {
  const drawn = new Set(
    sample.carriers
      .filter((carrier) => !listOrderIsFixed(carrier.sort_alg, carrier.gwlist))
      .map((carrier) => carrier.carrierid),
  );
  const rules = new Map(sample.rules.map((rule) => [rule.ruleid, rule]));
  return (ruleId) => {
    const rule = rules.get(ruleId);
    if (!rule || !listOrderIsFixed(rule.sort_alg, rule.gwlist ?? '')) return false;
    return !(rule.gwlist ?? '')
      .split(',')
      .some((entry) => entry.startsWith('#') && drawn.has(entry.slice(1).split('=')[0] ?? ''));
  };
}

/** The same outcome and rule, and the same gateways: in the same order where ours is fixed, else as a set. */
export function sameAnswer(theirs: RoutingAnswer, ours: OurAnswer): boolean {
  const answer = ours.answer;
  if (theirs.outcome !== answer.outcome) return false;
  if (theirs.outcome === 'no-rule' || answer.outcome === 'no-rule') return true;
  if (theirs.ruleId !== answer.ruleId) return false;
  if (theirs.outcome === 'no-gateway' || answer.outcome === 'no-gateway') return true;
  const key = (gateway: OfferedGateway) => `${gateway.gwid}/${gateway.carrierid}/${gateway.user}`;
  const theirKeys = theirs.gateways.map(key);
  const ourKeys = answer.gateways.map(key);
  if (!ours.orderFixed) {
    theirKeys.sort();
    ourKeys.sort();
  }
  return theirKeys.join(',') === ourKeys.join(',');
}

/** A disagreement with everything needed to see it again: the seed, the question, both answers, the rows involved. */
export function describeDisagreement(sample: DroutingSample, disagreement: Disagreement): string {
  const rules = sample.rules.filter(
    (rule) =>
      rule.groupid.split(',').includes(String(disagreement.question.group)) &&
      disagreement.question.number.startsWith(rule.prefix),
  );
  const ids = new Set(
    rules.flatMap((rule) => (rule.gwlist ?? '').split(',').map((entry) => entry.split('=')[0] ?? '')),
  );
  const carriers = sample.carriers.filter((carrier) => ids.has(`#${carrier.carrierid}`));
  for (const carrier of carriers) for (const entry of carrier.gwlist.split(',')) ids.add(entry.split('=')[0] ?? '');
  const gateways = sample.gateways.filter((gateway) => ids.has(gateway.gwid));
  return [
    `seed ${sample.seed}, number ${disagreement.question.number}, group ${disagreement.question.group}, flags "${disagreement.question.flags}", at ${disagreement.at}`,
    `  OpenSIPS: ${JSON.stringify(disagreement.opensips)}`,
    `  ours:     ${JSON.stringify(disagreement.ours)}`,
    '  rules whose prefix and group match:',
    ...rules.map((rule) => `    ${JSON.stringify(rule)}`),
    '  their carriers and gateways:',
    ...carriers.map((carrier) => `    ${JSON.stringify(carrier)}`),
    ...gateways.map((gateway) => `    ${JSON.stringify(gateway)}`),
  ].join('\n');
}
