#!/usr/bin/env node
import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { DrouterError } from './errors.js';
import { createLogger } from './log.js';
import { startServer } from './main.js';
import { prepareStore, seedStore } from './store/knex/open-store.js';

/** Exit codes: 0 done, 1 unexpected failure, 2 the operator must fix something (config, store). */
const EXIT_OPERATOR_ERROR = 2;
const EXIT_UNEXPECTED = 1;
/** SIGINT/SIGTERM must end the process within 2 s even if a close hangs. */
const SHUTDOWN_DEADLINE_MS = 1500;

const DEFAULT_CONFIG_FILE = fileURLToPath(new URL('../config/default.yaml', import.meta.url));

function readConfig(options: { config?: string }): Readonly<Config> {
  return loadConfig({ configFile: options.config, defaultFile: DEFAULT_CONFIG_FILE, env: process.env });
}

async function start(options: { config?: string }): Promise<void> {
  const config = readConfig(options);
  const log = createLogger(config.log.level);
  const server = await startServer(config, log);
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `drouter stopping on ${signal}`);
    setTimeout(() => {
      log.warn('shutdown deadline passed; exiting with work unfinished');
      process.exit(0);
    }, SHUTDOWN_DEADLINE_MS).unref();
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        process.exit(0);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

async function migrate(options: { config?: string }): Promise<void> {
  const config = readConfig(options);
  const { store, schemaCreated } = await prepareStore(config.store.url, { seedExample: false });
  await store.close();
  console.log(`schema of ${store.displayUrl} is up to date${schemaCreated ? ' (tables created)' : ''}`);
}

async function seed(options: { config?: string }): Promise<void> {
  const config = readConfig(options);
  const summary = await seedStore(config.store.url);
  console.log(
    `example data loaded: ${summary.gateways} gateways, ${summary.gwLists} gateway list, ${summary.rules} rules, ${summary.groups} groups, ${summary.peers} peers`,
  );
}

function run(action: (options: { config?: string }) => Promise<void>) {
  return async (options: { config?: string }) => {
    try {
      await action(options);
    } catch (error) {
      if (error instanceof DrouterError) {
        console.error(`drouter: ${error.code}: ${error.message}`);
        process.exit(EXIT_OPERATOR_ERROR);
      }
      console.error('drouter: unexpected failure:', error);
      process.exit(EXIT_UNEXPECTED);
    }
  };
}

const program = new Command('drouter').description('SIP registrar and dynamic-routing proxy');
const configOption = ['--config <file>', 'configuration file (default: DROUTER_CONFIG, else config/default.yaml)'] as const;

program.command('start').description('start the server').option(...configOption).action(run(start));
program.command('migrate').description('create the schema where it is missing').option(...configOption).action(run(migrate));
program.command('seed').description('load the example data into empty tables').option(...configOption).action(run(seed));

await program.parseAsync(process.argv);
