import { enumNull, intKey, intNull, type RowOf, type TableSpec, varchar, varcharNull } from './columns.js';

/**
 * Asterisk realtime `sippeers`, as the last upstream schema creates it:
 * contrib/ast-db-manage/config/versions/4da0c5f79a9c_create_tables.py, with
 * the later migrations applied (useragent widened to 255 by 1758e8bbf6b,
 * accountcode to 80 by 339a3bdf53fc, directmedia gaining `outgoing` by
 * 10aedae86a32). Column order is the alembic order.
 */

const YESNO = ['yes', 'no'] as const;
const TYPE = ['friend', 'user', 'peer'] as const;
const TRANSPORT = ['udp', 'tcp', 'tls', 'ws', 'wss', 'udp,tcp', 'tcp,udp'] as const;
const DTMFMODE = ['rfc2833', 'info', 'shortinfo', 'inband', 'auto'] as const;
const DIRECTMEDIA = ['yes', 'no', 'nonat', 'update', 'outgoing'] as const;
const PROGRESSINBAND = ['yes', 'no', 'never'] as const;
const SESSION_TIMERS = ['accept', 'refuse', 'originate'] as const;
const SESSION_REFRESHER = ['uac', 'uas'] as const;
const CALLINGPRES = [
  'allowed_not_screened',
  'allowed_passed_screen',
  'allowed_failed_screen',
  'allowed',
  'prohib_not_screened',
  'prohib_passed_screen',
  'prohib_failed_screen',
  'prohib',
] as const;

export const sippeersTable = {
  name: 'sippeers',
  columns: [
    intKey('id'),
    varchar('name', 40),
    varcharNull('ipaddr', 45),
    intNull('port'),
    intNull('regseconds'),
    varcharNull('defaultuser', 40),
    varcharNull('fullcontact', 80),
    varcharNull('regserver', 20),
    varcharNull('useragent', 255),
    intNull('lastms'),
    varcharNull('host', 40),
    enumNull('type', TYPE),
    varcharNull('context', 40),
    varcharNull('permit', 95),
    varcharNull('deny', 95),
    varcharNull('secret', 40),
    varcharNull('md5secret', 40),
    varcharNull('remotesecret', 40),
    enumNull('transport', TRANSPORT),
    enumNull('dtmfmode', DTMFMODE),
    enumNull('directmedia', DIRECTMEDIA),
    varcharNull('nat', 29),
    varcharNull('callgroup', 40),
    varcharNull('pickupgroup', 40),
    varcharNull('language', 40),
    varcharNull('disallow', 200),
    varcharNull('allow', 200),
    varcharNull('insecure', 40),
    enumNull('trustrpid', YESNO),
    enumNull('progressinband', PROGRESSINBAND),
    enumNull('promiscredir', YESNO),
    enumNull('useclientcode', YESNO),
    varcharNull('accountcode', 80),
    varcharNull('setvar', 200),
    varcharNull('callerid', 40),
    varcharNull('amaflags', 40),
    enumNull('callcounter', YESNO),
    intNull('busylevel'),
    enumNull('allowoverlap', YESNO),
    enumNull('allowsubscribe', YESNO),
    enumNull('videosupport', YESNO),
    intNull('maxcallbitrate'),
    enumNull('rfc2833compensate', YESNO),
    varcharNull('mailbox', 40),
    enumNull('session-timers', SESSION_TIMERS),
    intNull('session-expires'),
    intNull('session-minse'),
    enumNull('session-refresher', SESSION_REFRESHER),
    varcharNull('t38pt_usertpsource', 40),
    varcharNull('regexten', 40),
    varcharNull('fromdomain', 40),
    varcharNull('fromuser', 40),
    varcharNull('qualify', 40),
    varcharNull('defaultip', 45),
    intNull('rtptimeout'),
    intNull('rtpholdtimeout'),
    enumNull('sendrpid', YESNO),
    varcharNull('outboundproxy', 40),
    varcharNull('callbackextension', 40),
    intNull('timert1'),
    intNull('timerb'),
    intNull('qualifyfreq'),
    enumNull('constantssrc', YESNO),
    varcharNull('contactpermit', 95),
    varcharNull('contactdeny', 95),
    enumNull('usereqphone', YESNO),
    enumNull('textsupport', YESNO),
    enumNull('faxdetect', YESNO),
    enumNull('buggymwi', YESNO),
    varcharNull('auth', 40),
    varcharNull('fullname', 40),
    varcharNull('trunkname', 40),
    varcharNull('cid_number', 40),
    enumNull('callingpres', CALLINGPRES),
    varcharNull('mohinterpret', 40),
    varcharNull('mohsuggest', 40),
    varcharNull('parkinglot', 40),
    enumNull('hasvoicemail', YESNO),
    enumNull('subscribemwi', YESNO),
    varcharNull('vmexten', 40),
    enumNull('autoframing', YESNO),
    intNull('rtpkeepalive'),
    intNull('call-limit'),
    enumNull('g726nonstandard', YESNO),
    enumNull('ignoresdpversion', YESNO),
    enumNull('allowtransfer', YESNO),
    enumNull('dynamic', YESNO),
    varcharNull('path', 256),
    enumNull('supportpath', YESNO),
  ],
  keyColumn: 'id',
  labelColumn: 'name',
  uniques: [{ name: 'name', columns: ['name'] }],
  indexes: [
    { name: 'sippeers_name', columns: ['name'] },
    { name: 'sippeers_name_host', columns: ['name', 'host'] },
    { name: 'sippeers_ipaddr_port', columns: ['ipaddr', 'port'] },
    { name: 'sippeers_host_port', columns: ['host', 'port'] },
  ],
} as const satisfies TableSpec;

export type SipPeerRow = RowOf<typeof sippeersTable>;

/**
 * The columns the registrar and the location service read. chan_sip reads
 * the whole row; building 89 columns into an object cost more than the
 * rest of the lookup (41 µs against 6 µs on SQLite), once per REGISTER.
 */
export const PEER_COLUMN_NAMES = [
  'id',
  'name',
  'type',
  'host',
  'secret',
  'md5secret',
  'defaultuser',
  'ipaddr',
  'port',
  'regseconds',
  'fullcontact',
  'useragent',
  'regserver',
  'lastms',
  'insecure',
  'permit',
  'deny',
] as const;

export type PeerRow = Pick<SipPeerRow, (typeof PEER_COLUMN_NAMES)[number]>;

/** sippeers as far as PeerRow goes: what a peer lookup reads and checks. */
export const peerColumnsOfSippeers = {
  ...sippeersTable,
  columns: sippeersTable.columns.filter((column) => (PEER_COLUMN_NAMES as readonly string[]).includes(column.name)),
} as const satisfies TableSpec;

/** The columns a registration writes (chan_sip `realtime_update_peer`). */
export const REGISTRATION_COLUMN_NAMES = [
  'ipaddr',
  'port',
  'regseconds',
  'fullcontact',
  'useragent',
  'defaultuser',
  'regserver',
  'lastms',
] as const;

export type RegistrationColumns = Pick<SipPeerRow, (typeof REGISTRATION_COLUMN_NAMES)[number]>;

/** The size in characters of each registration column that has one (VARCHAR(n)); a column not named is not limited. */
export type RegistrationColumnSizes = Readonly<Partial<Record<keyof RegistrationColumns, number>>>;
