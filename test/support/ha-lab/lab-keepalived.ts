import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from '../drouter-process.js';
import { REPO_ROOT } from '../repo-root.js';
import { ADMIN_PORT } from './lab-node.js';
import type { Namespace } from './namespaces.js';

/**
 * keepalived (Debian's package) in a node's namespace, on the operator's
 * example configuration, config/keepalived.example.conf, with its
 * placeholders filled: what the HA tests run is what docs/ha.md tells
 * operators to install.
 */

export const EXAMPLE_CONFIG = join(REPO_ROOT, 'config', 'keepalived.example.conf');

export interface KeepalivedValues {
  nodeName: string;
  interface: string;
  sourceIp: string;
  peer: string;
  /** With its prefix length: 198.18.0.10/24. */
  virtualIp: string;
  priority: number;
  /** The node's drouter configuration file. */
  config: string;
}

/** The example with every @PLACEHOLDER@ replaced; one left over is an error naming it. */
export function renderKeepalivedConfig(values: KeepalivedValues): string {
  const replacements: Record<string, string> = {
    '@NODE_NAME@': values.nodeName,
    '@INTERFACE@': values.interface,
    '@SOURCE_IP@': values.sourceIp,
    '@PEER@': values.peer,
    '@VIRTUAL_IP@': values.virtualIp,
    '@PRIORITY@': String(values.priority),
    '@ADMIN_URL@': `http://127.0.0.1:${ADMIN_PORT}`,
    '@DROUTER@': `${process.execPath} ${CLI}`,
    '@CONFIG@': values.config,
  };
  let text = readFileSync(EXAMPLE_CONFIG, 'utf8');
  for (const [placeholder, value] of Object.entries(replacements)) text = text.split(placeholder).join(value);
  // Comments may name placeholders; the configuration lines must not keep any.
  const left = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .match(/@[A-Z_]+@/);
  if (left) throw new Error(`${EXAMPLE_CONFIG}: placeholder ${left[0]} is not filled by the lab`);
  return text;
}

export class LabKeepalived {
  private child: ChildProcess | undefined;
  private log = '';
  private readonly configFile: string;

  constructor(
    readonly namespace: Namespace,
    private readonly dir: string,
    values: KeepalivedValues,
  ) {
    this.configFile = join(dir, `keepalived-${values.nodeName}.conf`);
    writeFileSync(this.configFile, renderKeepalivedConfig(values));
  }

  /**
   * In the foreground (-n), logging to the console (-l -D) instead of
   * syslog, VRRP only (-P), with pid files of its own (-p -r -c) so two
   * instances on one machine do not take each other for a running daemon.
   */
  start(): void {
    if (this.alive) throw new Error(`keepalived in ${this.namespace.name} is already running`);
    const pid = (what: string) => join(this.dir, `keepalived-${this.namespace.name}-${what}.pid`);
    this.log = '';
    this.child = this.namespace.spawn(
      'keepalived',
      [
        '-n',
        '-l',
        '-D',
        '-G',
        '-P',
        '-f',
        this.configFile,
        '-p',
        pid('main'),
        '-r',
        pid('vrrp'),
        '-c',
        pid('checkers'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stdout?.on('data', (chunk: Buffer) => (this.log += chunk.toString('utf8')));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.log += chunk.toString('utf8')));
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What keepalived logged, for a failure message and for the transition times. */
  output(): string {
    return this.log;
  }

  /** SIGTERM: keepalived gives the virtual IP up (priority 0 advert) and removes it. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
