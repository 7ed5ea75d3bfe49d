import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './drouter-process.js';
import { waitFor } from './wait-for.js';

/** An event baresip's ctrl_tcp reports (ua_event: REGISTER_OK, CALL_ESTABLISHED, CALL_CLOSED …). */
export interface BaresipEvent {
  type: string;
  class?: string;
  accountaor?: string;
  peeruri?: string;
  param?: string;
}

/** baresip's answer to one ctrl_tcp command. */
interface BaresipResponse {
  ok: boolean;
  data?: string;
  token?: string;
}

export interface BaresipAccount {
  user: string;
  password: string;
  /** The domain of its address of record (From, To, the REGISTER's Request-URI). */
  domain: string;
  /** Every request goes here first (baresip's `outbound`): the proxy under test. */
  outboundProxy: { address: string; port: number };
  /**
   * How it reaches `outboundProxy` (`;transport=` of its address of record and outbound):
   * udp by default; tls needs `outboundProxy.port` to be the proxy's sip.tls.port and `caFile` to start.
   */
  transport?: 'udp' | 'tls';
}

/** Where and how baresip runs (Baresip.start). */
export interface BaresipOptions {
  address: string;
  sipPort: number;
  controlPort: number;
  account: BaresipAccount;
  /** The CA certificates it trusts for TLS (sip_cafile); required with `account.transport` tls. */
  caFile?: string;
  timeoutMs: number;
}

/** A free port for ctrl_tcp beside `sipPort`: not one of baresip's SIP ports (`sipPort`, `sipPort + 1` for TLS), which freePort does not know of. */
export async function freeControlPort(sipPort: number): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port !== sipPort && port !== sipPort + 1) return port;
  }
}

/**
 * Encodes one ctrl_tcp message: baresip frames JSON as netstrings
 * (`LENGTH:JSON,`, the length in bytes).
 */
function netstring(message: object): Buffer {
  const json = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`${json.length}:`), json, Buffer.from(',')]);
}

/**
 * A real baresip (Debian's 1.0.0) on its own 127.0.0.N, driven through its
 * ctrl_tcp module (JSON netstrings over TCP): a config directory of its own
 * in a temporary folder, one account behind `outboundProxy`, answering calls
 * itself (answermode=auto), audio through aubridge (its source and player
 * joined in the process: no sound card). Everything it reports is kept in
 * `events` for the test to wait on.
 */
export class Baresip {
  readonly events: BaresipEvent[] = [];
  private output = '';
  private buffered = Buffer.alloc(0);
  private readonly responses = new Map<string, BaresipResponse>();
  private nextToken = 0;
  private control: Socket | undefined;

  private constructor(
    readonly address: string,
    readonly sipPort: number,
    private readonly dir: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
  }

  /** Starts baresip on `address` (SIP on `sipPort`, ctrl_tcp on `controlPort`) and connects to its ctrl_tcp. */
  static async start(options: BaresipOptions): Promise<Baresip> {
    const { address, sipPort, controlPort, account } = options;
    const transport = account.transport ?? 'udp';
    if (transport === 'tls' && options.caFile === undefined)
      throw new Error("baresip over TLS needs caFile, the CA that signed the proxy's certificate");
    // baresip listens for SIP over UDP and TCP on sipPort and over TLS on the port after it.
    if (controlPort === sipPort || controlPort === sipPort + 1)
      throw new Error(
        `ctrl_tcp port ${controlPort} is one of baresip's SIP ports (${sipPort}, ${sipPort + 1} for TLS)`,
      );
    const dir = mkdtempSync(join(tmpdir(), 'drouter-baresip-'));
    writeFileSync(join(dir, 'config'), baresipConfig(address, sipPort, controlPort, options.caFile));
    const { outboundProxy: proxy } = account;
    // regint: the REGISTER's Expires; answermode=auto: it answers a call itself.
    writeFileSync(
      join(dir, 'accounts'),
      `<sip:${account.user}@${account.domain};transport=${transport}>;auth_pass=${account.password};outbound="sip:${proxy.address}:${proxy.port};transport=${transport}";regint=600;answermode=auto\n`,
    );
    // The contacts file is read at start; an empty one keeps baresip from writing its example.
    writeFileSync(join(dir, 'contacts'), '');
    const child = spawn('baresip', ['-f', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const phone = new Baresip(address, sipPort, dir, child);
    try {
      phone.control = await waitFor(
        'baresip ctrl_tcp to accept a connection',
        options.timeoutMs,
        () => phone.connect(controlPort),
        { detail: () => phone.printed() },
      );
    } catch (error) {
      await phone.stop(1000);
      throw error;
    }
    return phone;
  }

  /** What baresip printed, for a failing test's message. */
  printed(): string {
    return `baresip on ${this.address}:${this.sipPort} printed:\n${this.output}`;
  }

  /** Runs a ctrl_tcp command (menu's `dial`, `hangup`, `uadel` …) and returns its answer. */
  async command(command: string, params: string, timeoutMs: number): Promise<BaresipResponse> {
    const token = `t${this.nextToken++}`;
    if (!this.control) throw new Error('baresip ctrl_tcp is not connected');
    this.control.write(netstring({ command, params, token }));
    return waitFor(`baresip's answer to ${command} ${params}`, timeoutMs, () => this.responses.get(token), {
      detail: () => this.printed(),
    });
  }

  /** The first event (since `from`, an index into `events`) of `type`, within `timeoutMs`. */
  async event(type: string, timeoutMs: number, from = 0): Promise<BaresipEvent> {
    return waitFor(
      `baresip event ${type}`,
      timeoutMs,
      () => this.events.slice(from).find((event) => event.type === type),
      {
        detail: () =>
          `events: ${this.events.map((event) => `${event.type}(${event.param ?? ''})`).join(', ')}; ${this.printed()}`,
      },
    );
  }

  /**
   * Its account's registration answered 200: the REGISTER_OK event, or
   * baresip's own line for it (`1001@…: {0/UDP/v4} 200 OK`, `{0/TLS/v4}` over TLS). baresip
   * registers as it starts, so on a busy machine the event may be sent
   * before our ctrl_tcp connection is up, and is then never seen.
   */
  async registered(timeoutMs: number): Promise<void> {
    await waitFor(
      'baresip to register (REGISTER_OK, or its "200 OK" line)',
      timeoutMs,
      () =>
        this.events.some((event) => event.type === 'REGISTER_OK') ||
        / \{\d+\/(?:UDP|TLS)\/v4\} 200 OK /.test(this.output) ||
        undefined,
      {
        detail: () =>
          `events: ${this.events.map((event) => `${event.type}(${event.param ?? ''})`).join(', ')}; ${this.printed()}`,
      },
    );
  }

  /**
   * Stops it as a user's Ctrl-C would: SIGTERM makes baresip unregister every
   * account and then exit; SIGKILL after `timeoutMs`. Resolves when it is gone.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.control?.destroy();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Whether it exited on its own (after a SIGTERM, once it unregistered). */
  get exited(): boolean {
    return this.child.exitCode !== null;
  }

  private async connect(port: number): Promise<Socket | undefined> {
    if (this.child.exitCode !== null) throw new Error(`baresip exited with ${this.child.exitCode}`);
    const socket = connect(port, this.address);
    try {
      await once(socket, 'connect');
    } catch {
      socket.destroy();
      return undefined;
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    return socket;
  }

  private onData(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    for (;;) {
      const colon = this.buffered.indexOf(':');
      if (colon < 0) return;
      const length = Number(this.buffered.subarray(0, colon).toString('latin1'));
      if (this.buffered.length < colon + 1 + length + 1) return;
      const message = JSON.parse(
        this.buffered.subarray(colon + 1, colon + 1 + length).toString('utf8'),
      ) as BaresipEvent & BaresipResponse & { event?: boolean; response?: boolean };
      this.buffered = this.buffered.subarray(colon + 1 + length + 1);
      if (message.event) this.events.push(message);
      else if (message.response && message.token !== undefined) this.responses.set(message.token, message);
    }
  }
}

/**
 * baresip 1.0's config: SIP and media on `address` only (net_interface takes
 * an address), ctrl_tcp for the test, the menu's commands for ctrl_tcp to
 * run, G.711 (what the stand-in gateway offers), and aubridge as audio device.
 */
function baresipConfig(address: string, sipPort: number, controlPort: number, caFile: string | undefined): string {
  return [
    ...(caFile === undefined ? [] : [`sip_cafile ${caFile}`]),
    'poll_method epoll',
    `sip_listen ${address}:${sipPort}`,
    `net_interface ${address}`,
    'call_local_timeout 30',
    'call_max_calls 4',
    'audio_player aubridge,phone',
    'audio_source aubridge,phone',
    'audio_alert aubridge,alert',
    'module_path /usr/lib/baresip/modules',
    'module g711.so',
    'module aubridge.so',
    'module_tmp account.so',
    'module_app menu.so',
    'module_app ctrl_tcp.so',
    `ctrl_tcp_listen ${address}:${controlPort}`,
    '',
  ].join('\n');
}
