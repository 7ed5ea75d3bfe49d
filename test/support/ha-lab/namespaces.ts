import { type ChildProcess, execFile, spawn, type SpawnOptions } from 'node:child_process';

/**
 * Network namespaces for the HA lab: `ip netns` hosts joined by veth pairs
 * to a Linux bridge that lives in a "switch" namespace of its own. Nothing
 * is attached to the root namespace and no namespace has a default route,
 * so no packet can leave the lab (the rule for test benches).
 */

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (bounded by `timeoutMs`), never throwing on a non-zero exit. */
export function run(command: string, args: readonly string[], timeoutMs = 15_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a command and throws, with its output, unless it exits 0. */
export async function mustRun(command: string, args: readonly string[], timeoutMs?: number): Promise<string> {
  const result = await run(command, args, timeoutMs);
  if (result.code !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** Lab namespaces are named `sipdr-<pid of the test process>-<host>`. */
const NAME_PREFIX = 'sipdr-';

export class Namespace {
  constructor(readonly name: string) {}

  /** A command inside this namespace, to its end. */
  run(command: string, args: readonly string[], timeoutMs?: number): Promise<CommandResult> {
    return run('ip', ['netns', 'exec', this.name, command, ...args], timeoutMs);
  }

  mustRun(command: string, args: readonly string[], timeoutMs?: number): Promise<string> {
    return mustRun('ip', ['netns', 'exec', this.name, command, ...args], timeoutMs);
  }

  /** A long-running process inside this namespace. `ip netns exec` execs the command, so the child's pid is the command's. */
  spawn(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, command, ...args], options);
  }

  /** `ip` inside the namespace (`ip -n NAME ...`). */
  ip(...args: string[]): Promise<string> {
    return mustRun('ip', ['-n', this.name, ...args]);
  }

  /** Whether `address` (no prefix length) is configured on an interface here. */
  async holds(address: string): Promise<boolean> {
    const shown = await this.ip('-o', '-4', 'addr', 'show');
    return shown.split('\n').some((line) => line.includes(` ${address}/`));
  }
}

export interface HostSpec {
  /** Short name: the namespace is sipdr-<pid>-<name>, its interface `eth0`. */
  name: string;
  /** Addresses with prefix length, 198.18.0.0/15 only. */
  addresses: string[];
  /** net.ipv4.ip_nonlocal_bind=1: the SIP socket binds the virtual IP before it is here. */
  nonlocalBind?: boolean;
}

const LAB_RANGE = /^198\.(18|19)\.\d{1,3}\.\d{1,3}\/\d{1,2}$/;

/** The switch and the hosts on it. `destroy()` deletes every namespace it made. */
export class LabNetwork {
  private constructor(
    readonly prefix: string,
    private readonly hosts: Map<string, Namespace>,
    private readonly switchNamespace: Namespace,
  ) {}

  static async create(hosts: readonly HostSpec[]): Promise<LabNetwork> {
    for (const host of hosts) {
      for (const address of host.addresses)
        if (!LAB_RANGE.test(address))
          throw new Error(`lab address ${address} of ${host.name} is outside 198.18.0.0/15`);
    }
    await removeStaleNamespaces();
    const prefix = `${NAME_PREFIX}${process.pid}-`;
    const switchNamespace = new Namespace(`${prefix}sw`);
    const network = new LabNetwork(prefix, new Map(), switchNamespace);
    try {
      await addNamespace(switchNamespace);
      await switchNamespace.ip('link', 'add', 'br0', 'type', 'bridge');
      await switchNamespace.ip('link', 'set', 'br0', 'up');
      for (const host of hosts) network.hosts.set(host.name, await attachHost(prefix, switchNamespace, host));
    } catch (error) {
      await network.destroy();
      throw error;
    }
    return network;
  }

  /**
   * Every way out of the lab there is, which must be none: a route other
   * than the lab's own connected subnet in any of its namespaces, or an
   * interface of the lab's in the root namespace.
   */
  async waysOut(): Promise<string[]> {
    const found: string[] = [];
    for (const namespace of [...this.hosts.values(), this.switchNamespace]) {
      const routes = (await namespace.ip('-4', 'route', 'show')).split('\n').filter(Boolean);
      found.push(
        ...routes
          .filter((route) => !/^198\.(18|19)\.\d+\.\d+\/\d+ dev \S+ proto kernel scope link/.test(route))
          .map((route) => `${namespace.name}: ${route}`),
      );
    }
    const rootLinks = await mustRun('ip', ['-o', 'link', 'show']);
    found.push(
      ...rootLinks
        .split('\n')
        .filter((line) => / p-[\w-]+[@:]/.test(line))
        .map((line) => `root namespace: ${line}`),
    );
    return found;
  }

  host(name: string): Namespace {
    const found = this.hosts.get(name);
    if (!found) throw new Error(`no lab host ${name}`);
    return found;
  }

  /**
   * Deletes the namespaces (their veth ends go with them). A process still
   * inside one (the lab's own, left by a failed test) would keep it alive,
   * so whatever is left is killed first.
   */
  async destroy(): Promise<void> {
    for (const namespace of [...this.hosts.values(), this.switchNamespace]) await deleteNamespace(namespace.name);
  }
}

async function addNamespace(namespace: Namespace): Promise<void> {
  await mustRun('ip', ['netns', 'add', namespace.name]);
  await namespace.ip('link', 'set', 'lo', 'up');
}

async function attachHost(prefix: string, switchNamespace: Namespace, host: HostSpec): Promise<Namespace> {
  const namespace = new Namespace(`${prefix}${host.name}`);
  await addNamespace(namespace);
  // Both ends are created straight inside their namespaces: no veth ever exists in the root namespace.
  const port = `p-${host.name}`;
  await mustRun('ip', [
    'link',
    'add',
    'eth0',
    'netns',
    namespace.name,
    'type',
    'veth',
    'peer',
    'name',
    port,
    'netns',
    switchNamespace.name,
  ]);
  await switchNamespace.ip('link', 'set', port, 'master', 'br0');
  await switchNamespace.ip('link', 'set', port, 'up');
  for (const address of host.addresses) await namespace.ip('addr', 'add', address, 'dev', 'eth0');
  await namespace.ip('link', 'set', 'eth0', 'up');
  if (host.nonlocalBind) await namespace.mustRun('sysctl', ['-q', '-w', 'net.ipv4.ip_nonlocal_bind=1']);
  return namespace;
}

/**
 * Namespaces of earlier runs whose test process is gone (a crash, a kill -9
 * of vitest): their processes are killed and the namespaces deleted. Those
 * of a run still going (another pid, alive) are left alone; ones named after
 * this very process are stale too (a reused pid), since a lab is made once.
 */
export async function removeStaleNamespaces(): Promise<void> {
  const listed = await run('ip', ['netns', 'list']);
  for (const line of listed.stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const match = /^sipdr-(\d+)-/.exec(name);
    if (!match) continue;
    const owner = Number(match[1]);
    if (owner !== process.pid && processAlive(owner)) continue;
    await deleteNamespace(name);
  }
}

async function deleteNamespace(name: string): Promise<void> {
  const pids = await run('ip', ['netns', 'pids', name]);
  for (const pid of pids.stdout.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await run('ip', ['netns', 'delete', name]);
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
