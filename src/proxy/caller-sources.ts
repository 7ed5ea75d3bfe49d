import { errorMessage, formatRowProblem } from '../errors.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { PeersByAddress } from './peers-by-address.js';
import type { TrustedSources } from './trusted-sources.js';

/**
 * Reads what the caller check knows of sources from the store, at start and
 * at every reload: the `address` table's trusted sources (a row that cannot
 * be used is logged and left out) and the peers matched by their static
 * `host` (a table that does not read keeps the last ones, logged).
 */
export async function readCallerSources(
  sources: { trusted: TrustedSources; peers: PeersByAddress },
  store: Store,
  log: Logger,
): Promise<void> {
  const { rows, problems } = await store.loadAddresses();
  for (const problem of [...problems, ...sources.trusted.adopt(rows)])
    log.warn({ problem }, `trusted sources: ${formatRowProblem(problem)}`);
  try {
    sources.peers.adopt(await store.listPeers({ staticHostsOnly: true }));
  } catch (error) {
    log.warn({ err: error }, `peers with a static host not read (the last ones stay in use): ${errorMessage(error)}`);
  }
}
