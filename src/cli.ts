#!/usr/bin/env node
import { Argument, Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { AdminError } from './admin/admin-contract.js';
import { AdminClient, configuredAdminUrl } from './admin/admin-client.js';
import {
  carriersCommand,
  eventsCommand,
  gatewaysCommand,
  type OutputOptions,
  peerCommand,
  peersCommand,
  prunePeerCommand,
  probingCommand,
  reloadCommand,
  setCarrierCommand,
  setGatewayCommand,
} from './commands/admin-commands.js';
import type { RouteOptions } from './commands/route-commands.js';
import { loadConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { DrouterError } from './errors.js';
import { packageVersion } from './version.js';

/** Exit codes; EXIT_CODES_HELP says them to the operator, once, in `drouter --help`. */
const EXIT_FAILURE = 1;
const EXIT_OPERATOR_ERROR = 2;
const EXIT_ADMIN_UNREACHABLE = 3;

const EXIT_CODES_HELP = `
Exit codes:
  0  done
  1  the server refused or failed the request (no such gateway, carrier or
     peer; a reload refused; a 5xx), \`drouter check\` found errors,
     \`drouter ha check\` found the node unhealthy, or an unexpected failure
  2  the operator must fix something: a bad option or value, the
     configuration, a SIP or admin address and port that cannot be bound,
     a request the admin API rejects (400), a missing or wrong --token
     (401), a --url host the server does not answer to (403)
  3  no admin API at --url (the server does not run there, or --url is wrong)`;

const DEFAULT_CONFIG_FILE = fileURLToPath(new URL('../config/default.yaml', import.meta.url));

interface ConfigOption {
  config?: string;
}

interface AdminOptions extends ConfigOption, OutputOptions {
  url?: string;
  token?: string;
}

function readConfig(options: ConfigOption): Readonly<Config> {
  return loadConfig({ configFile: options.config, defaultFile: DEFAULT_CONFIG_FILE, env: process.env });
}

function adminClient(config: Readonly<Config>, options: AdminOptions): AdminClient {
  return new AdminClient(options.url ?? configuredAdminUrl(config.admin), options.token ?? config.admin.token);
}

const connect = (options: AdminOptions): AdminClient => adminClient(readConfig(options), options);

/** A request the admin API rejected as malformed (400), unauthorised (401) or to a name it does not answer to (403) is the operator's to fix; any other refusal is the server's. */
const OPERATOR_FIXES = new Set([400, 401, 403]);

function exitCodeOf(error: DrouterError): number {
  if (error.code === 'DROUTER_ERR_ADMIN_UNREACHABLE') return EXIT_ADMIN_UNREACHABLE;
  if (error instanceof AdminError && !OPERATOR_FIXES.has(error.status)) return EXIT_FAILURE;
  return EXIT_OPERATOR_ERROR;
}

/** Runs a command; a DrouterError ends the process with its message and exit code, never a stack trace. */
async function run(action: () => Promise<number | void>): Promise<void> {
  try {
    const code = await action();
    if (typeof code === 'number') process.exitCode = code;
  } catch (error) {
    if (error instanceof DrouterError) {
      console.error(`drouter: ${error.code}: ${error.message}`);
      process.exit(exitCodeOf(error));
    }
    console.error('drouter: unexpected failure:', error);
    process.exit(EXIT_FAILURE);
  }
}

const program = new Command('drouter')
  .description('SIP registrar and dynamic-routing proxy')
  .version(
    `drouter ${packageVersion()} (Node.js ${process.version})`,
    '-V, --version',
    'print the version of drouter and of Node.js',
  )
  .addHelpText('after', EXIT_CODES_HELP);
// Subcommands inherit both: commander's own complaints (unknown option, missing argument) read and exit like ours.
program.configureOutput({
  outputError: (text, write) => write(`drouter: DROUTER_ERR_USAGE: ${text.replace(/^error: /, '')}`),
});
program.exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_OPERATOR_ERROR));
// The commands that open the store load the whole server (a third of a second); those that only ask the admin API need not wait for it.
const storeCommands = () => import('./commands/store-commands.js');
const routeCommands = () => import('./commands/route-commands.js');
const configFlag = '--config <file>';
const configHelp = 'configuration file (default: DROUTER_CONFIG, else config/default.yaml)';

/** The options of every command that asks the admin API of a running server. */
function adminOptions(command: Command): Command {
  return command
    .option('--url <url>', 'the admin API (default: http://admin.address:admin.port of the configuration)')
    .option('--token <token>', 'its bearer token (default: admin.token, e.g. from DROUTER_ADMIN__TOKEN)')
    .option('--json', 'print the JSON answer instead of text for people')
    .option(configFlag, configHelp);
}

program
  .command('start')
  .description('start the server (SIGHUP reloads the routing data)')
  .option(configFlag, configHelp)
  .option(
    '--workers <n>',
    'worker processes sharing the SIP address, to use more cores (default 1: one process; more need cache.url redis://)',
  )
  .action((options: ConfigOption & { workers?: string }) =>
    run(async () => {
      const workers = (await import('./cluster/core/workers-config.js')).parseWorkers(options.workers);
      return (await import('./commands/start.js')).startCommand(readConfig(options), { workers });
    }),
  );
program
  .command('migrate')
  .description('create the tables that are missing')
  .option(configFlag, configHelp)
  .action((options: ConfigOption) => run(async () => (await storeCommands()).migrateCommand(readConfig(options))));
program
  .command('seed')
  .description('load the example data into empty tables')
  .option(configFlag, configHelp)
  .action((options: ConfigOption) => run(async () => (await storeCommands()).seedCommand(readConfig(options))));
adminOptions(
  program
    .command('route')
    .description(
      'show where a number would be routed, and why: asks the running server (live gateway states), else reads the database',
    )
    .argument('<number>', 'the Request-URI user part, e.g. 01144201234567')
    .option('--from <user@domain>', 'the caller, for the dr_groups lookup')
    .option('--group <n>', 'the routing group, skipping dr_groups')
    .option('--at <time>', 'ISO-8601 time for the timerecs (default: now)')
    .option('--strict', 'OpenSIPS flag L: the prefix must be the whole number')
    .option('--fallback', 'OpenSIPS flag F: a rule without usable gateways gives way to the next')
    .option('--whitelist <ids>', 'comma list of gateway/carrier ids the call may use')
    .option('--partition <name>', 'the dr_partitions partition to route in (routing.partitions)'),
).action((number: string, options: RouteOptions & AdminOptions) =>
  run(async () => {
    const config = readConfig(options);
    return (await routeCommands()).routeCommand(config, adminClient(config, options), number, options);
  }),
);
program
  .command('check')
  .description('validate the routing data: every error, row skipped and warning (exit 1 on errors)')
  .option(configFlag, configHelp)
  .option('--strict', 'a row that would be skipped is an error (routing.strict)')
  .action((options: ConfigOption & { strict?: boolean }) =>
    run(async () => (await routeCommands()).checkCommand(readConfig(options), { strict: options.strict === true })),
  );

/** `drouter gateway enable|disable GWID` and the same for carriers. */
function enableDisableCommands(
  noun: 'gateway' | 'carrier',
  idName: string,
  idHelp: string,
  set: (client: AdminClient, id: string, enable: boolean, options: OutputOptions) => Promise<void>,
): void {
  const parent = program.command(noun).description(`take a ${noun} out of routing, or put it back`);
  for (const action of ['enable', 'disable'] as const) {
    adminOptions(
      parent.command(action).description(`${action} a ${noun} and print it`).argument(`<${idName}>`, idHelp),
    ).action((id: string, options: AdminOptions) => run(() => set(connect(options), id, action === 'enable', options)));
  }
}

adminOptions(
  program
    .command('gateways')
    .description('list the gateways with their live state, since when, the last probe RTT and why'),
).action((options: AdminOptions) => run(() => gatewaysCommand(connect(options), options)));
enableDisableCommands('gateway', 'gwid', 'the gateway id (dr_gateways.gwid)', setGatewayCommand);
adminOptions(program.command('carriers').description('list the carriers: enabled or not, sorting, gateways')).action(
  (options: AdminOptions) => run(() => carriersCommand(connect(options), options)),
);
enableDisableCommands('carrier', 'id', 'the carrier id (dr_carriers.carrierid)', setCarrierCommand);
adminOptions(
  program
    .command('reload')
    .description('reload the routing data on the running server (exit 1 when it refuses the data and keeps the old)')
    .option(
      '--no-inherit-state',
      'gateways take their dr_gateways.state column again instead of keeping their live state',
    ),
).action((options: AdminOptions & { inheritState: boolean }) => run(() => reloadCommand(connect(options), options)));
adminOptions(
  program.command('peers').description('list the sippeers peers and whether they are registered, like sip show peers'),
).action((options: AdminOptions) => run(() => peersCommand(connect(options), options)));
adminOptions(
  program
    .command('peer')
    .description("show one peer's columns and its live bindings")
    .argument('<name>', 'sippeers.name')
    .option(
      '--prune',
      "drop the peer's cached copy (rtcachefriends) on every node sharing the cache, like sip prune realtime peer; exit 1 when none was cached",
    ),
).action((name: string, options: AdminOptions & { prune?: boolean }) =>
  run(() =>
    options.prune ? prunePeerCommand(connect(options), name, options) : peerCommand(connect(options), name, options),
  ),
);
adminOptions(
  program
    .command('probing')
    .description('show the switch of OPTIONS probing, or turn it on or off on the running server')
    .addArgument(new Argument('[on|off]', 'the new setting; without it, show the current one').choices(['on', 'off'])),
).action((change: 'on' | 'off' | undefined, options: AdminOptions) =>
  run(() => probingCommand(connect(options), change, options)),
);
adminOptions(
  program
    .command('events')
    .description('the latest gateway state changes, newest first')
    .option('--limit <n>', 'how many, 1 to 200 (default: 200)'),
).action((options: AdminOptions & { limit?: string }) => run(() => eventsCommand(connect(options), options)));

const banCommands = () => import('./commands/ban-commands.js');
adminOptions(
  program
    .command('bans')
    .description('list the sources banned now (failed authentications, scanners), on every node sharing the cache'),
).action((options: AdminOptions) => run(async () => (await banCommands()).bansCommand(connect(options), options)));
adminOptions(
  program
    .command('unban')
    .description('lift the ban of a source on every node (exit 1 when it is not banned)')
    .argument('<address>', 'the banned IP address'),
).action((address: string, options: AdminOptions) =>
  run(async () => (await banCommands()).unbanCommand(connect(options), address, options)),
);

const haCommands = () => import('./commands/ha-commands.js');
const ha = program
  .command('ha')
  .description("a node of a keepalived pair: keepalived's track and notify scripts, and the node's role");
adminOptions(
  ha
    .command('check')
    .description(
      "exit 0 when the SIP engine, store and cache are healthy, 1 when not, 3 when the node does not answer (the test keepalived's track_script makes with curl on /health)",
    ),
).action((options: AdminOptions) => run(async () => (await haCommands()).haCheckCommand(connect(options), options)));
adminOptions(
  ha
    .command('notify')
    .description(
      "record keepalived's state for this node (its notify script) and tell the running node; only a MASTER contends for the leader lease",
    )
    .argument(
      '<state...>',
      'MASTER, BACKUP, FAULT or STOP; or what keepalived passes a notify script: TYPE NAME STATE PRIORITY',
    ),
).action((args: string[], options: AdminOptions) =>
  run(async () => {
    const config = readConfig(options);
    return (await haCommands()).haNotifyCommand(config.ha, adminClient(config, options), args, options);
  }),
);
adminOptions(
  ha
    .command('status')
    .description("this node's role (leader or standby), keepalived's state and who holds the leader lease"),
).action((options: AdminOptions) => run(async () => (await haCommands()).haStatusCommand(connect(options), options)));

await program.parseAsync(process.argv);
