import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { mustRun, type Namespace } from './namespaces.js';

/**
 * A Redis and a MariaDB of the lab's own, in its "services" namespace. They
 * are private because the HA tests stop and start them, while the machine's
 * shared ones on 127.0.0.1 serve other test files running at the same time.
 * The nodes reach them over the lab bridge; the test process (in the root
 * namespace, with no way onto the bridge) reads them through their Unix
 * sockets, which live in the file system every namespace shares.
 */

/** A server process that the tests stop and start again on the same data. */
abstract class PrivateServer {
  protected child: ChildProcess | undefined;

  constructor(
    protected readonly namespace: Namespace,
    protected readonly dir: string,
    readonly address: string,
  ) {}

  protected abstract launch(): ChildProcess;
  protected abstract ready(): Promise<boolean>;
  protected abstract readonly what: string;

  /** Starts it and waits until it answers on its socket (10 s at most). */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.what} is already running`);
    const child = this.launch();
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    this.child = child;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) break;
      if (await this.ready()) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGKILL');
    throw new Error(`${this.what} did not come up (exit ${child.exitCode}):\n${output}`);
  }

  /** Stops it: SIGTERM is a clean stop, SIGKILL a crash. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }
}

/**
 * redis-server with an append-only file fsynced at every write: stopping
 * it is then an outage, not a loss, which is what a deployment that keeps
 * its registrations in Redis must run (without persistence a restart empties
 * the location service, whatever sip-drouter does).
 */
export class PrivateRedis extends PrivateServer {
  protected readonly what = 'the lab Redis';
  readonly socket = join(this.dir, 'redis.sock');

  static async create(namespace: Namespace, baseDir: string, address: string): Promise<PrivateRedis> {
    const dir = join(baseDir, 'redis');
    mkdirSync(dir, { recursive: true });
    const redis = new PrivateRedis(namespace, dir, address);
    await redis.start();
    return redis;
  }

  /** What the nodes put in cache.url. */
  get url(): string {
    return `redis://${this.address}:6379/0`;
  }

  /** A client for the test, over the Unix socket. The caller quits it. */
  client(): Redis {
    return new Redis({ path: this.socket, maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: false });
  }

  protected launch(): ChildProcess {
    return this.namespace.spawn(
      'redis-server',
      [
        '--bind',
        this.address,
        '--port',
        '6379',
        '--protected-mode',
        'no',
        '--unixsocket',
        this.socket,
        '--unixsocketperm',
        '700',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--daemonize',
        'no',
        '--logfile',
        '',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
  }

  protected async ready(): Promise<boolean> {
    const client = new Redis({
      path: this.socket,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  }
}

/**
 * mariadbd on a data directory made for this run, without grant tables (any
 * user, no password: the lab is closed), names not resolved (there is no
 * DNS in the lab, and a reverse lookup per connection would hang), InnoDB
 * small so that it starts in a fraction of a second.
 */
export class PrivateMariaDb extends PrivateServer {
  protected readonly what = 'the lab MariaDB';
  readonly socket = join(this.dir, 'mariadb.sock');
  private readonly dataDir = join(this.dir, 'data');
  private static readonly INNODB = ['--innodb-log-file-size=8M', '--innodb-buffer-pool-size=32M'];

  static async create(namespace: Namespace, baseDir: string, address: string): Promise<PrivateMariaDb> {
    const dir = join(baseDir, 'mariadb');
    mkdirSync(dir, { recursive: true });
    const mariadb = new PrivateMariaDb(namespace, dir, address);
    await mustRun(
      'mariadb-install-db',
      ['--no-defaults', `--datadir=${mariadb.dataDir}`, '--user=root', '--skip-test-db', ...PrivateMariaDb.INNODB],
      60_000,
    );
    await mariadb.start();
    return mariadb;
  }

  /** What the nodes put in store.url. */
  url(database: string): string {
    return `mysql://root@${this.address}:3306/${database}`;
  }

  /** One query from the test, over the Unix socket, on a connection of its own (the server may have restarted since the last). */
  async query(sql: string, params: unknown[] = [], database?: string): Promise<Record<string, unknown>[]> {
    const connection = await mysql.createConnection({
      socketPath: this.socket,
      user: 'root',
      database,
      multipleStatements: true,
    });
    try {
      const [rows] = await connection.query(sql, params);
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    } finally {
      await connection.end();
    }
  }

  protected launch(): ChildProcess {
    return this.namespace.spawn(
      'mariadbd',
      [
        '--no-defaults',
        `--datadir=${this.dataDir}`,
        `--socket=${this.socket}`,
        `--pid-file=${join(this.dir, 'mariadb.pid')}`,
        `--bind-address=${this.address}`,
        '--port=3306',
        '--user=root',
        '--skip-grant-tables',
        '--skip-name-resolve',
        ...PrivateMariaDb.INNODB,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
  }

  protected async ready(): Promise<boolean> {
    try {
      await this.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }
}
