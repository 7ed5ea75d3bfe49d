#!/usr/bin/env node
import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { checkCommand, type RouteOptions, routeCommand } from './commands/route-commands.js';
import { startCommand } from './commands/start.js';
import { migrateCommand, seedCommand } from './commands/store-commands.js';
import { loadConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { DrouterError } from './errors.js';

/** Exit codes: 0 done, 1 unexpected failure (or `check` found errors), 2 the operator must fix something. */
const EXIT_OPERATOR_ERROR = 2;
const EXIT_UNEXPECTED = 1;

const DEFAULT_CONFIG_FILE = fileURLToPath(new URL('../config/default.yaml', import.meta.url));

interface ConfigOption {
  config?: string;
}

function readConfig(options: ConfigOption): Readonly<Config> {
  return loadConfig({ configFile: options.config, defaultFile: DEFAULT_CONFIG_FILE, env: process.env });
}

/** Runs a command; a DrouterError ends the process with its message and exit 2, never a stack trace. */
async function run(action: () => Promise<number | void>): Promise<void> {
  try {
    const code = await action();
    if (typeof code === 'number') process.exitCode = code;
  } catch (error) {
    if (error instanceof DrouterError) {
      console.error(`drouter: ${error.code}: ${error.message}`);
      process.exit(EXIT_OPERATOR_ERROR);
    }
    console.error('drouter: unexpected failure:', error);
    process.exit(EXIT_UNEXPECTED);
  }
}

const program = new Command('drouter').description('SIP registrar and dynamic-routing proxy');
const configFlag = '--config <file>';
const configHelp = 'configuration file (default: DROUTER_CONFIG, else config/default.yaml)';

program
  .command('start')
  .description('start the server (SIGHUP reloads the routing data)')
  .option(configFlag, configHelp)
  .action((options: ConfigOption) => run(() => startCommand(readConfig(options))));
program
  .command('migrate')
  .description('create the tables that are missing')
  .option(configFlag, configHelp)
  .action((options: ConfigOption) => run(() => migrateCommand(readConfig(options))));
program
  .command('seed')
  .description('load the example data into empty tables')
  .option(configFlag, configHelp)
  .action((options: ConfigOption) => run(() => seedCommand(readConfig(options))));
program
  .command('route')
  .description('show where a number would be routed, and why')
  .argument('<number>', 'the Request-URI user part, e.g. 01144201234567')
  .option('--from <user@domain>', 'the caller, for the dr_groups lookup')
  .option('--group <n>', 'the routing group, skipping dr_groups')
  .option('--at <time>', 'ISO-8601 time for the timerecs (default: now)')
  .option('--strict', 'OpenSIPS flag L: the prefix must be the whole number')
  .option('--fallback', 'OpenSIPS flag F: a rule without usable gateways gives way to the next')
  .option('--whitelist <ids>', 'comma list of gateway/carrier ids the call may use')
  .option('--json', 'print JSON instead of a report')
  .option(configFlag, configHelp)
  .action((number: string, options: RouteOptions & ConfigOption) => run(() => routeCommand(readConfig(options), number, options)));
program
  .command('check')
  .description('validate the routing data: every error and warning (exit 1 on errors)')
  .option(configFlag, configHelp)
  .action((options: ConfigOption) => run(() => checkCommand(readConfig(options))));

await program.parseAsync(process.argv);
