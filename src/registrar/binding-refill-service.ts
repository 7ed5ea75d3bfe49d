import type { BindingCache, Fence, SwitchCache } from '../cache/cache.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { bindingFromRow } from './core/realtime-peer.js';
import { bindingTtl } from './binding-ttl.js';
import { errorMessage } from '../errors.js';

export interface BindingRefillDeps {
  cache: SwitchCache & BindingCache;
  store: Pick<Store, 'registeredPeers'>;
  clock: Clock;
  log: Logger;
  /** How often the leader looks whether the cache lost what it put there. */
  intervalMs: number;
  /** Rows a page. */
  pageSize: number;
  /** The leader lease this node holds, or undefined when another node is the leader. */
  fence(): Fence | undefined;
  /** Bindings put back, for sipdr_bindings_refilled_total. */
  refilled(count: number): void;
}

/**
 * A cache that restarted empty (Redis without persistence, or the
 * in-process cache of a process that restarted) has lost the bindings
 * while every sippeers row still says which phones are registered
 * (rtupdate writes them at each REGISTER). The leader looks at start and
 * every `intervalMs` whether the cache still holds its `rows-loaded`
 * switch; without it, it reads the registered rows page by page and puts
 * back each binding the cache lacks (a binding already there, from a
 * REGISTER since, is left as it is), saying its progress in the log, then
 * sets the switch. Each write is fenced by the leader lease. The location
 * service does the same for a single number when it is called first.
 */
export class BindingRefill {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly deps: BindingRefillDeps) {}

  start(): void {
    if (this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.deps.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One look (and refill when needed) at a time; a failure is logged and the next tick tries again. */
  private tick(): void {
    this.running ??= this.refillWhenLost()
      .then(() => undefined)
      .catch((error: unknown) =>
        this.deps.log.warn(
          { err: error },
          `refilling the cache from the sippeers rows failed: ${errorMessage(error)}; tried again in ${this.deps.intervalMs / 1000} s`,
        ),
      )
      .finally(() => (this.running = undefined));
  }

  /** Resolves to the bindings put back (0 when the cache had not lost them). */
  async refillWhenLost(): Promise<number> {
    const { cache, store, log, pageSize } = this.deps;
    if (await cache.getSwitch('rows-loaded')) return 0;
    const started = this.deps.clock.now().getTime();
    let read = 0;
    let restored = 0;
    let after = '';
    for (let page = 1; ; page++) {
      const fence = this.deps.fence();
      if (!fence) return restored;
      const now = this.deps.clock.now().getTime();
      const { rows, problems, last } = await store.registeredPeers(after, pageSize, Math.floor(now / 1000));
      for (const problem of problems)
        log.warn(
          { problem },
          `sippeers row ${problem.row} left out of the cache's refill: ${problem.column} ${problem.problem}`,
        );
      let restoredHere = 0;
      for (const row of rows) {
        const binding = bindingFromRow(row, now);
        if (!binding || (await cache.getBindings(row.name)).length > 0) continue;
        const outcome = await cache.swapBindings(row.name, [], [binding], bindingTtl([binding], now), fence);
        if (outcome === 'fenced') return restored;
        if (outcome === 'swapped') restoredHere++;
      }
      read += rows.length + problems.length;
      restored += restoredHere;
      this.deps.refilled(restoredHere);
      if (last === undefined) break;
      log.info(
        { page, read, restored },
        `refilling the cache from the sippeers rows: ${read} registered rows read, ${restored} bindings put back so far`,
      );
      after = last;
    }
    await cache.setSwitch('rows-loaded', true);
    const ms = this.deps.clock.now().getTime() - started;
    if (restored > 0 || read > 0)
      log.info(
        { read, restored, ms },
        `the cache holds the sippeers rows' registrations: ${restored} bindings put back of ${read} registered rows, in ${ms} ms`,
      );
    return restored;
  }
}
