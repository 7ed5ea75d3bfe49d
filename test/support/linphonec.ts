import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait-for.js';

export interface LinphonecAccount {
  user: string;
  password: string;
  /** The domain of its identity (From, To). */
  domain: string;
  /** Its registrar and the first hop of every request: the proxy under test. */
  proxy: { address: string; port: number };
}

/**
 * A real linphonec (Debian's linphone-cli 5.1) on its own 127.0.0.N, driven
 * through a pipe: commands on its standard input (`call …`, `terminate`,
 * `unregister`), its printed lines kept for the test to wait on. Its home,
 * configuration and databases are in a temporary folder of its own.
 */
export class Linphonec {
  private output = '';

  private constructor(
    readonly address: string,
    readonly sipPort: number,
    private readonly dir: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
  }

  static start(options: { address: string; sipPort: number; rtpPort: number; account: LinphonecAccount }): Linphonec {
    const dir = mkdtempSync(join(tmpdir(), 'drouter-linphonec-'));
    const rc = join(dir, 'linphonerc');
    writeFileSync(rc, linphonerc(options));
    // HOME: liblinphone keeps its database in ~/.local/share/linphone (and says so on stderr when it cannot).
    mkdirSync(join(dir, '.local', 'share', 'linphone'), { recursive: true });
    const env = { ...process.env, HOME: dir };
    const child = spawn('stdbuf', ['-oL', 'linphonec', '-c', rc], { stdio: ['pipe', 'pipe', 'pipe'], env, cwd: dir });
    return new Linphonec(options.address, options.sipPort, dir, child);
  }

  /** The version `linphonec -v` prints (`version: 5.1.65`): its User-Agent is `Linphonec/` and this. */
  static version(): string {
    const printed = spawnSync('linphonec', ['-v'], { encoding: 'utf8', timeout: 10_000 });
    const version = /version: (\S+)/.exec(`${printed.stdout}${printed.stderr}`)?.[1];
    if (version === undefined) throw new Error(`linphonec -v printed no version: ${printed.stdout}${printed.stderr}`);
    return version;
  }

  /** Everything it printed so far. */
  get printed(): string {
    return this.output;
  }

  /** Types one command line into it. */
  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** Waits until what it printed (from character `from` on) matches `pattern`; returns the match. */
  async expectOutput(pattern: RegExp, timeoutMs: number, from = 0): Promise<RegExpExecArray> {
    return waitFor(
      `linphonec to print ${pattern}`,
      timeoutMs,
      () => pattern.exec(this.output.slice(from)) ?? undefined,
      {
        detail: () => `linphonec on ${this.address}:${this.sipPort} printed:\n${this.output}`,
      },
    );
  }

  /**
   * Types `line` every `everyMs` until what it printed (from character
   * `from` on) matches `pattern`: a question such as `status register`
   * asked again until the answer is the one wanted.
   */
  async askUntil(line: string, pattern: RegExp, timeoutMs: number, everyMs = 250): Promise<RegExpExecArray> {
    const from = this.output.length;
    return waitFor(
      `linphonec to answer ${line} with ${pattern}`,
      timeoutMs,
      () => {
        const found = pattern.exec(this.output.slice(from));
        if (found) return found;
        this.send(line);
        return undefined;
      },
      { pollMs: everyMs, detail: () => `linphonec on ${this.address}:${this.sipPort} printed:\n${this.output}` },
    );
  }

  /** Asks it to quit, SIGKILL after `timeoutMs`; resolves when it is gone. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = once(this.child, 'exit');
      this.send('quit');
      this.child.stdin?.end();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Its configuration: UDP only on `address`:`sipPort`, one account
 * registering through the proxy (reg_route sends its calls there too), no
 * video, no sound card (files instead). auto_net_state_mon=1: without it
 * linphonec 5.1 waits for a network-up event that never comes in a container
 * and opens no SIP port at all.
 */
function linphonerc(options: { address: string; sipPort: number; rtpPort: number; account: LinphonecAccount }): string {
  const { address, sipPort, rtpPort, account } = options;
  const proxy = `sip:${account.proxy.address}:${account.proxy.port};transport=udp`;
  return `[sip]
bind_address=${address}
sip_port=${sipPort}
sip_tcp_port=0
sip_tls_port=0
default_proxy=0
guess_hostname=1
ipv6_enabled=0
inc_timeout=30

[net]
auto_net_state_mon=1

[rtp]
audio_rtp_port=${rtpPort}
video_rtp_port=${rtpPort + 2}

[video]
enabled=0
capture=0
display=0
automatically_initiate=0
automatically_accept=0

[sound]
echocancellation=0

[proxy_0]
reg_proxy=<${proxy}>
reg_route=<${proxy};lr>
reg_identity="Phone ${account.user}" <sip:${account.user}@${account.domain}>
reg_expires=600
reg_sendregister=1
publish=0

[auth_info_0]
username=${account.user}
userid=${account.user}
passwd=${account.password}
`;
}
