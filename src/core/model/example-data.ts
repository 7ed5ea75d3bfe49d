import type { DrGatewayRow, DrGroupRow, DrGwListRow, DrRuleRow } from './drouting-tables.js';
import type { SipPeerRow } from './sippeers-table.js';

/**
 * The example of the seed tutorial ("Dynamic Routing with Opensips",
 * shared/reference/002): two Asterisk servers that fail over from one to the
 * other through gateway list #1, rules for 011, one exact number and North
 * America; everyone in group 0. Gateways sit on 127.0.0.x so the example
 * runs on one machine.
 *
 * The tutorial's third rule is a default route (an empty prefix). We load
 * one as OpenSIPS does, but warn on every build that has one (OpenSIPS
 * #1961: an empty prefix inserted by mistake routed every number), so the
 * example would warn at every start and teach its reader to ignore
 * warnings. Its rule 3 takes prefix 1 instead: still a rule that a longer
 * prefix (Fred's number) wins over, which is what the default taught.
 * docs/schema.md "Example data" shows how to add the default and its warning.
 */

type Insert<Row> = Partial<Row>;

export const exampleGateways: Insert<DrGatewayRow>[] = [
  { gwid: '1', type: 1, address: '127.0.0.2:5060', strip: 0, probe_mode: 2, description: 'Asterisk Server #1' },
  { gwid: '2', type: 1, address: '127.0.0.3:5060', strip: 0, probe_mode: 2, description: 'Asterisk Server #2' },
];

export const exampleGwLists: Insert<DrGwListRow>[] = [{ id: 1, gwlist: '1,2', description: 'My Media Servers' }];

export const exampleRules: Insert<DrRuleRow>[] = [
  { groupid: '0', prefix: '011', gwlist: '#1', description: 'International Calls' },
  { groupid: '0', prefix: '12025551234', gwlist: '#1', description: "Fred's number" },
  { groupid: '0', prefix: '1', gwlist: '#1', description: 'North America' },
];

/**
 * The tutorial's `(".*", ".*", 0)` row never matches (dr_groups is an exact
 * match, reader comment #7), so each example phone is put in group 0 by
 * name, in the domain the phones use: the embedded default's SIP address.
 */
const PHONES = ['1001', '1002', '1003', '1004'] as const;
const PHONE_DOMAIN = '127.0.0.1';

export const exampleGroups: Insert<DrGroupRow>[] = PHONES.map((username) => ({
  username,
  domain: PHONE_DOMAIN,
  groupid: 0,
  description: 'Everyone',
}));

export const examplePeers: Insert<SipPeerRow>[] = PHONES.map((name) => ({
  name,
  type: 'friend',
  host: 'dynamic',
  secret: `secret${name}`,
  context: 'from-phones',
  callerid: `"Phone ${name}" <${name}>`,
  nat: 'force_rport,comedia',
  transport: 'udp,tcp',
}));
