import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config/schema.js';
import { DrouterError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { MetricsSnapshot } from '../metrics/cluster-metrics.js';
import type { ToPrimary, ToWorker } from './ipc-messages.js';
import { restartDelayMs } from './core/restart-backoff.js';

/** A worker the admin front may ask. */
export interface ReadyWorker {
  index: number;
  pid: number;
  adminUrl: string;
}

/** One worker's line in the node's /health. */
export interface WorkerStatus {
  worker: number;
  pid: number | null;
  ready: boolean;
  restarts: number;
  admin: string | null;
}

/** A worker that does not start within this long fails the start (it should take a second or two). */
const START_TIMEOUT_MS = 60_000;

interface Slot {
  readonly index: number;
  worker: Worker | undefined;
  /** The worker listens for our messages (it said `waiting`). */
  listening: boolean;
  handoffPort: number;
  adminUrl: string | undefined;
  startedAt: number;
  restarts: number;
  /** The delay before the last restart, for the back-off. */
  lastDelayMs: number | undefined;
  restartTimer: NodeJS.Timeout | undefined;
  /** Why it could not start, as it said before exiting. */
  failure: { code: string | undefined; message: string } | undefined;
}

export interface SupervisorOptions {
  count: number;
  /** What every worker runs with. */
  config: Readonly<Config>;
  /** The worker's entry file (worker-main.js). */
  exec: string;
  log: Logger;
  now: () => number;
}

/**
 * The primary's side of `drouter start --workers N`: forks the workers,
 * passes each its number and the configuration, keeps the table of their
 * hand-off ports and the directory of accepted TCP connections, restarts a
 * worker that dies (with a back-off), signals and stops them all.
 */
export class WorkerSupervisor {
  private readonly slots: Slot[];
  /** Accepted TCP connections (`address:port`) and the worker holding each. */
  private readonly flows = new Map<string, number>();
  private readonly metricsWaiting = new Map<string, (snapshot: MetricsSnapshot | undefined) => void>();
  private metricsRequests = 0;
  private started = false;
  private stopping = false;
  private startSettled: { resolve(): void; reject(error: Error): void } | undefined;
  private onAllExited: (() => void) | undefined;

  constructor(private readonly options: SupervisorOptions) {
    this.slots = Array.from({ length: options.count }, (_, i) => ({
      index: i + 1,
      worker: undefined,
      listening: false,
      handoffPort: 0,
      adminUrl: undefined,
      startedAt: 0,
      restarts: 0,
      lastDelayMs: undefined,
      restartTimer: undefined,
      failure: undefined,
    }));
  }

  /** Forks every worker; resolves when all are ready, rejects with the first one's start error (the others are stopped). */
  async start(): Promise<void> {
    cluster.setupPrimary({ exec: this.options.exec, args: [], silent: false });
    const allReady = new Promise<void>((resolve, reject) => (this.startSettled = { resolve, reject }));
    for (const slot of this.slots) this.fork(slot);
    const timer = setTimeout(
      () =>
        this.failStart(
          new Error(`workers not ready after ${START_TIMEOUT_MS / 1000} s: ${this.notReady().join(', ')}`),
        ),
      START_TIMEOUT_MS,
    );
    try {
      await allReady;
      this.started = true;
    } finally {
      clearTimeout(timer);
    }
  }

  ready(): ReadyWorker[] {
    return this.slots.flatMap((slot) =>
      slot.worker && slot.adminUrl
        ? [{ index: slot.index, pid: slot.worker.process.pid ?? 0, adminUrl: slot.adminUrl }]
        : [],
    );
  }

  status(): WorkerStatus[] {
    return this.slots.map((slot) => ({
      worker: slot.index,
      pid: slot.worker?.process.pid ?? null,
      ready: slot.adminUrl !== undefined,
      restarts: slot.restarts,
      admin: slot.adminUrl ?? null,
    }));
  }

  /** SIGHUP (reload) and the like, to every running worker. */
  signalAll(signal: NodeJS.Signals): number {
    let sent = 0;
    for (const slot of this.slots) {
      if (slot.worker && !slot.worker.isDead()) {
        slot.worker.process.kill(signal);
        sent++;
      }
    }
    return sent;
  }

  /** Each ready worker's metrics; a worker that does not answer within `timeoutMs` is left out. */
  async metrics(timeoutMs: number): Promise<MetricsSnapshot[]> {
    const id = ++this.metricsRequests;
    const answers = this.ready().map(
      ({ index }) =>
        new Promise<MetricsSnapshot | undefined>((resolve) => {
          const key = `${index}:${id}`;
          const timer = setTimeout(() => settle(undefined), timeoutMs);
          const settle = (snapshot: MetricsSnapshot | undefined) => {
            clearTimeout(timer);
            this.metricsWaiting.delete(key);
            resolve(snapshot);
          };
          this.metricsWaiting.set(key, settle);
          this.sendTo(this.slots[index - 1], { kind: 'metrics-request', id });
        }),
    );
    return (await Promise.all(answers)).filter((snapshot) => snapshot !== undefined);
  }

  /** SIGTERM to every worker; SIGKILL to those still running after `deadlineMs`. */
  async stop(deadlineMs: number): Promise<void> {
    this.stopping = true;
    for (const slot of this.slots) clearTimeout(slot.restartTimer);
    const exited = new Promise<void>((resolve) => (this.onAllExited = resolve));
    if (this.running().length === 0) return;
    this.signalAll('SIGTERM');
    const deadline = new Promise<'late'>((resolve) => setTimeout(resolve, deadlineMs, 'late').unref());
    if ((await Promise.race([exited, deadline])) === 'late') {
      const late = this.running();
      this.options.log.warn(
        { workers: late.map((slot) => slot.index) },
        `workers ${late.map((slot) => slot.index).join(', ')} still running after ${deadlineMs} ms; killing them`,
      );
      for (const slot of late) slot.worker?.process.kill('SIGKILL');
    }
  }

  private running(): Slot[] {
    return this.slots.filter((slot) => slot.worker !== undefined);
  }

  private notReady(): string[] {
    return this.slots.filter((slot) => slot.adminUrl === undefined).map((slot) => `worker ${slot.index}`);
  }

  private fork(slot: Slot): void {
    const worker = cluster.fork();
    slot.worker = worker;
    slot.listening = false;
    slot.startedAt = this.options.now();
    slot.failure = undefined;
    worker.on('message', (message: ToPrimary) => this.onMessage(slot, worker, message));
    worker.on('exit', (code, signal) => this.onExit(slot, worker, code, signal));
  }

  private onMessage(slot: Slot, worker: Worker, message: ToPrimary): void {
    if (slot.worker !== worker) return;
    switch (message.kind) {
      case 'waiting':
        slot.listening = true;
        this.sendTo(slot, { kind: 'start', index: slot.index, count: this.options.count, config: this.options.config });
        return;
      case 'handoff-port':
        slot.handoffPort = message.port;
        this.broadcastPorts();
        // A new worker learns who holds which connection.
        for (const [key, holder] of this.flows) this.sendTo(slot, { kind: 'flow', key, holder });
        return;
      case 'ready':
        slot.adminUrl = message.adminUrl;
        if (slot.restarts > 0)
          this.options.log.info(
            { worker: slot.index, pid: worker.process.pid },
            `worker ${slot.index} is back (pid ${worker.process.pid})`,
          );
        if (!this.started && this.notReady().length === 0) this.startSettled?.resolve();
        return;
      case 'failed':
        slot.failure = { code: message.code, message: message.message };
        return;
      case 'flow':
        this.setFlow(message.key, message.open ? slot.index : undefined, slot.index);
        return;
      case 'metrics':
        this.metricsWaiting.get(`${slot.index}:${message.id}`)?.(message.snapshot);
    }
  }

  private onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.listening = false;
    slot.adminUrl = undefined;
    slot.handoffPort = 0;
    this.broadcastPorts();
    // Its TCP connections died with it.
    for (const [key, holder] of this.flows) if (holder === slot.index) this.setFlow(key, undefined, slot.index);
    if (this.stopping) {
      if (this.running().length === 0) this.onAllExited?.();
      return;
    }
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    if (!this.started) {
      this.failStart(
        slot.failure
          ? startError(slot.failure)
          : new Error(`worker ${slot.index} (pid ${worker.process.pid}) ${how} while starting`),
      );
      return;
    }
    const delayMs = restartDelayMs(slot.lastDelayMs, this.options.now() - slot.startedAt);
    slot.lastDelayMs = delayMs;
    const reason = slot.failure ? `: ${slot.failure.message}` : '';
    this.options.log.error(
      { worker: slot.index, pid: worker.process.pid, code, signal, restartInMs: delayMs },
      `worker ${slot.index} (pid ${worker.process.pid}) ${how}${reason}; restarting it in ${delayMs} ms`,
    );
    slot.restartTimer = setTimeout(() => {
      slot.restarts++;
      this.fork(slot);
    }, delayMs);
  }

  private failStart(error: Error): void {
    if (this.started || this.stopping) return;
    this.startSettled?.reject(error);
  }

  private setFlow(key: string, holder: number | undefined, from: number): void {
    if (holder === undefined) {
      // A close from a worker that no longer holds it (a newer connection from the same address took the key) changes nothing.
      if (this.flows.get(key) !== from) return;
      this.flows.delete(key);
    } else {
      this.flows.set(key, holder);
    }
    for (const slot of this.slots) this.sendTo(slot, { kind: 'flow', key, holder: holder ?? null });
  }

  private broadcastPorts(): void {
    const ports = this.slots.map((slot) => slot.handoffPort);
    for (const slot of this.slots) this.sendTo(slot, { kind: 'handoff-ports', ports });
  }

  private sendTo(slot: Slot | undefined, message: ToWorker): void {
    const worker = slot?.worker;
    // Not before it listens (the message would be lost); not after it closed its channel (exiting).
    if (slot?.listening && worker?.isConnected()) worker.send(message, undefined, () => undefined);
  }
}

/** A worker's start error as the CLI shows it: its code and message, as if this process had failed. */
function startError(failure: { code: string | undefined; message: string }): Error {
  return failure.code?.startsWith('DROUTER_ERR_')
    ? new DrouterError(failure.code as ErrorCode, failure.message)
    : new Error(failure.message);
}
