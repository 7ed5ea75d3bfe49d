import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * An OpenSIPS 3.x of our own, built from ../shared/vendor (build-opensips.sh
 * OUT_DIR leaves the tree at OUT_DIR/opensips-3.5.9), running a script that
 * answers each request with what do_routing decided for it.
 */

/** The built OpenSIPS tree (DROUTER_TEST_OPENSIPS_DIR): `opensips` and `modules/` in it. */
export const OPENSIPS_DIR = process.env.DROUTER_TEST_OPENSIPS_DIR;

export interface OpenSipsOptions {
  /** The built tree: `opensips` and `modules/` in it. */
  dir: string;
  /** Where it listens, UDP. */
  address: string;
  port: number;
  /** Its drouting tables: mysql://user@host/db. */
  dbUrl: string;
}

/**
 * The whole OpenSIPS configuration. For each request, the number is the
 * Request-URI user, the group the X-Group header, do_routing's flags the
 * X-Flags header (none or L):
 * - routed: 200 with `X-Rule: <ruleid>` and `X-Gateways:` each gateway
 *   do_routing and use_next_gw gave, as `gwid/carrierid/Request-URI user`;
 * - a rule matched but no gateway is usable: 480 with `X-Rule` (the rule
 *   do_routing's check-only flag C finds);
 * - no rule: 404.
 * Probing is off (probing_interval 0), so the state columns stay as loaded.
 */
export function routingScript(options: OpenSipsOptions): string {
  return `${scriptHead(options)}
loadmodule "sl.so"
loadmodule "sipmsgops.so"
loadmodule "db_mysql.so"
loadmodule "drouting.so"
modparam("drouting", "db_url", "${options.dbUrl}")
modparam("drouting", "probing_interval", 0)
modparam("drouting", "rule_id_avp", "$avp(rule_id)")
modparam("drouting", "gw_id_avp", "$avp(gw_id)")
modparam("drouting", "carrier_id_avp", "$avp(carrier_id)")

route {
  $var(group) = $(hdr(X-Group){s.int});
  # do_routing's flags are fixed when the script loads: one call per kind.
  if ($hdr(X-Flags) == "L") {
    if (do_routing($var(group), "L")) route(routed);
    if (do_routing($var(group), "LC")) route(unusable);
  } else {
    if (do_routing($var(group))) route(routed);
    if (do_routing($var(group), "C")) route(unusable);
  }
  sl_send_reply(404, "No Rule");
  exit;
}

route[routed] {
  $var(rule) = $avp(rule_id);
  $var(gateways) = $avp(gw_id) + "/" + $avp(carrier_id) + "/" + $rU;
  while (use_next_gw()) {
    $var(gateways) = $var(gateways) + "," + $avp(gw_id) + "/" + $avp(carrier_id) + "/" + $rU;
  }
  append_to_reply("X-Rule: $var(rule)\\r\\nX-Gateways: $var(gateways)\\r\\n");
  sl_send_reply(200, "Routed");
  exit;
}

route[unusable] {
  append_to_reply("X-Rule: $avp(rule_id)\\r\\n");
  sl_send_reply(480, "No Gateway");
  exit;
}
`;
}

/** The start of every script of ours: logging to stderr, one UDP worker on the options' socket, the tree's modules. */
export function scriptHead(options: OpenSipsOptions): string {
  return `log_level=2
stderror_enabled=yes
syslog_enabled=no
udp_workers=1
socket=udp:${options.address}:${options.port}
mpath="${join(options.dir, 'modules')}/"

loadmodule "proto_udp.so"`;
}

/**
 * '' where a MariaDB (DROUTER_TEST_MYSQL_URL) and a built OpenSIPS
 * (DROUTER_TEST_OPENSIPS_DIR) are given; else why a suite against OpenSIPS
 * cannot run, which is a failure under DROUTER_TEST_OPENSIPS (set by CI).
 */
export function opensipsMissing(): string {
  const unset = [
    process.env.DROUTER_TEST_MYSQL_URL ? '' : 'DROUTER_TEST_MYSQL_URL',
    OPENSIPS_DIR ? '' : 'DROUTER_TEST_OPENSIPS_DIR',
  ].filter(Boolean);
  if (unset.length > 0 && process.env.DROUTER_TEST_OPENSIPS)
    throw new Error(`DROUTER_TEST_OPENSIPS is set but ${unset.join(' and ')} is not`);
  return unset.length === 0 ? '' : `${unset.join(' and ')} ${unset.length === 1 ? 'is' : 'are'} not set`;
}

/** An OpenSIPS child process with its script in a temp folder; what it printed is kept for a failing test. */
export class OpenSipsProcess {
  private child: ChildProcess | undefined;
  private output = '';
  private readonly folder = mkdtempSync(join(tmpdir(), 'drouter-opensips-'));

  /** `script`: the whole configuration it runs; routingScript's unless given. */
  constructor(
    readonly options: OpenSipsOptions,
    private readonly script: string = routingScript(options),
  ) {}

  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts it in the foreground; the caller waits until it answers (its data is loaded before it takes requests). */
  async start(): Promise<void> {
    const binary = join(this.options.dir, 'opensips');
    if (!existsSync(binary))
      throw new Error(
        `no OpenSIPS binary at ${binary}: build it with ../shared/vendor/build-opensips.sh (docs/routing.md, "Checked against OpenSIPS"")`,
      );
    const script = join(this.folder, 'opensips.cfg');
    writeFileSync(script, this.script);
    // -F: no daemon, so the process we hold is the one to stop. TZ: its timerecs read in UTC, as ours are asked.
    const child = spawn(binary, ['-F', '-f', script, '-w', this.folder], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TZ: 'UTC' },
    });
    this.child = child;
    const keep = (chunk: Buffer) => (this.output += chunk.toString('utf8'));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await once(child, 'spawn');
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.folder, { recursive: true, force: true });
  }
}
