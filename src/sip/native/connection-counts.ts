import type { TcpCap } from '../../metrics/metric-labels.js';

/**
 * The accepted TCP connections, counted in total and per source address,
 * against sip.tcp.maxConnections and maxConnectionsPerSource. Pure.
 */
export class ConnectionCounts {
  private total = 0;
  private readonly bySource = new Map<string, number>();

  constructor(private readonly caps: { maxConnections: number; maxConnectionsPerSource: number }) {}

  /** Counts a new connection from `source` and returns undefined, or the cap it would break (then nothing is counted). */
  admit(source: string): TcpCap | undefined {
    if (this.total >= this.caps.maxConnections) return 'total';
    const fromSource = this.bySource.get(source) ?? 0;
    if (fromSource >= this.caps.maxConnectionsPerSource) return 'per-source';
    this.total += 1;
    this.bySource.set(source, fromSource + 1);
    return undefined;
  }

  /** An admitted connection from `source` closed. */
  release(source: string): void {
    const fromSource = this.bySource.get(source) ?? 0;
    if (fromSource <= 0) return;
    this.total -= 1;
    if (fromSource === 1) this.bySource.delete(source);
    else this.bySource.set(source, fromSource - 1);
  }
}
