import type { BindingCache } from '../cache/cache.js';
import type { Clock } from '../clock.js';
import type { RegistrarConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { SecurityLog } from '../security-log/security-log.js';
import type { PeerRow, RegistrationColumnSizes } from '../core/model/sippeers-table.js';
import type { Endpoint, ServerExchange, SipRequest } from '../sip/engine.js';
import type { MethodStep } from '../sip/pipeline.js';
import { parseSipUri } from '../sip/core/uri.js';
import { KeyedReportThrottle } from '../core/report-throttle.js';
import { registrationFailed } from '../security-log/core/asterisk-lines.js';
import type { Store } from '../store/store.js';
import {
  applyRegister,
  asksOutbound,
  type Binding,
  boundToFlow,
  byPreference,
  contactHeaderValues,
  isRetransmission,
} from './core/bindings.js';
import { bindingTtl } from './binding-ttl.js';
import { contactEntries, numberOrUndefined } from './register-request.js';
import type { AuthenticationFailure, DigestAuthenticator } from './authentication-service.js';
import { fitToColumns, type Truncation } from './core/column-fit.js';
import type { PeerLookup } from './peer-service.js';
import { PerAorQueue } from './core/per-aor-queue.js';
import { CLEARED_REGISTRATION, mayRegister, registeredColumns } from './core/realtime-peer.js';
import { errorMessage } from '../errors.js';

/** What the metrics learn from the registrar (src/metrics implements it). */
export interface RegistrationObserver {
  registration(result: 'registered' | 'refreshed' | 'unregistered' | 'challenged' | 'failed'): void;
}

export interface RegistrarDeps {
  store: Pick<Store, 'writeRegistration'>;
  peers: PeerLookup;
  cache: BindingCache;
  config: Readonly<RegistrarConfig>;
  /** The digest check (401, Authorization) against the sippeers peers. */
  authenticator: DigestAuthenticator;
  clock: Clock;
  /** A draw from [0, 1) per granted expiry (registrar.expiresJitter). */
  random: () => number;
  log: Logger;
  /** Where a failed authentication is told (the JSON log, and the plain file fail2ban reads). */
  security: Pick<SecurityLog, 'registrationFailed'>;
  observer: RegistrationObserver;
  /** The sippeers registration columns' sizes (Store.registrationColumnSizes, read at start): longer values are cut in the row only. */
  columnSizes: RegistrationColumnSizes;
  /** ha.nodeAddress: kept with each binding made here ('' none). */
  nodeAddress: string;
  /** The Flow-Timer a phone registering over a connection with outbound is told (RFC 5626 §5.4): its keep-alives must come within it. */
  flowTimerSeconds: number;
}

/**
 * A REGISTER whose bindings another process changed this many times running
 * gets a 500 with Retry-After: REGISTERs of one AoR are serialised within a
 * process, so each rival is another node or worker writing at that moment.
 */
const SWAP_ATTEMPTS = 5;

/** A peer's value that does not fit its column is said once per this interval (each REGISTER would repeat it). */
const TRUNCATION_REPORT_MS = 3_600_000;
/** Peer/column pairs remembered for that: beyond, the oldest may be said again early. */
const TRUNCATION_REPORT_KEYS = 10_000;

/**
 * REGISTER (RFC 3261 §10.3) against the Asterisk realtime peer table:
 * digest with stateless nonces, the sippeers row for credentials and
 * registration state, bindings in the cache. Every failure logs chan_sip's
 * line; a failed authentication also goes to the security log, for fail2ban.
 */
/** The registrar: the REGISTER step, and what a closed connection does to the bindings registered over it. */
export interface Registrar {
  step: MethodStep;
  /** A connection a phone registered over closed (the engine says so): its flow-bound bindings end (RFC 5626 §5.3). */
  flowClosed(flow: Endpoint): Promise<void>;
}

/** A connection, as the flows map knows it. */
function flowKey(flow: Endpoint): string {
  return `${flow.transport}:${flow.address}:${flow.port}`;
}

export function registerStep(deps: RegistrarDeps): Registrar {
  const { config, log } = deps;
  const queue = new PerAorQueue();
  /** The AoRs registered over each connection this process holds, so that its close can end their bindings. */
  const flows = new Map<string, Set<string>>();
  const truncationReports = new KeyedReportThrottle(TRUNCATION_REPORT_MS, TRUNCATION_REPORT_KEYS);

  /** One line per peer and column per interval: the registration went on, the row holds a shortened copy. */
  function truncated(peer: string, cuts: readonly Truncation[]): void {
    const now = deps.clock.now().getTime();
    for (const { column, length, size } of cuts) {
      if (!truncationReports.admit(`${peer}\n${column}`, now)) continue;
      log.warn(
        { peer, column, length, size },
        `sippeers.${column} of peer ${peer}: ${length} characters do not fit the column's ${size}; the row holds a shortened copy, the registration keeps the whole value`,
      );
    }
  }

  /** A registration whose authentication failed: the security log's line, and the count. */
  function authenticationFailed(request: SipRequest, reason: AuthenticationFailure): void {
    deps.observer.registration('failed');
    deps.security.registrationFailed(request, reason);
  }

  /** A registration refused after a right authentication (its bindings): chan_sip's line in the JSON log only, for it is no attack. */
  function bindingsRefused(request: SipRequest, reason: string): void {
    deps.observer.registration('failed');
    log.warn({ callId: request.callId, source: request.source.address }, registrationFailed(request, reason).text);
  }

  function challenge(exchange: ServerExchange, stale: boolean): void {
    exchange.reply(401, {
      headers: { 'WWW-Authenticate': deps.authenticator.challenge(exchange.request.source.address, stale) },
    });
  }

  async function authenticate(exchange: ServerExchange, user: string): Promise<PeerRow | undefined> {
    const { request } = exchange;
    const verdict = await deps.authenticator.check({
      credentials: request.authorization,
      method: 'REGISTER',
      source: request.source.address,
      fit: mayRegister,
      unfitReason: 'Peer is not supposed to register',
      // A REGISTER retransmitted to a node that never saw it (a failover) carries a count already used.
      retransmission: async (peer) =>
        isRetransmission(
          await deps.cache.getBindings(peer.name),
          { callId: request.callId ?? '', cseq: request.cseq?.seq ?? 0 },
          deps.clock.now().getTime(),
        ),
    });
    if (!verdict.ok) {
      if (verdict.securityReason) authenticationFailed(request, verdict.securityReason);
      else deps.observer.registration('challenged');
      challenge(exchange, verdict.stale);
      return undefined;
    }
    // The digest user must be the user being registered (chan_sip AUTH_USERNAME_MISMATCH).
    if (verdict.credentials.username !== user) {
      authenticationFailed(request, 'Username/auth name mismatch');
      exchange.reply(403, { reason: 'Forbidden (authentication name does not match the To user)' });
      return undefined;
    }
    return verdict.peer;
  }

  /**
   * Writes the new bindings if nobody changed them since `before` was read,
   * then the row; a row that cannot be written puts the bindings back (all
   * or nothing, RFC 3261 §10.3 R12). 'changed': another REGISTER or the
   * sweep came first, nothing was written.
   */
  async function store(
    peer: PeerRow,
    before: readonly Binding[],
    after: readonly Binding[],
    now: number,
  ): Promise<'stored' | 'changed'> {
    if ((await deps.cache.swapBindings(peer.name, before, after, bindingTtl(after, now))) !== 'swapped')
      return 'changed';
    if (!config.rtupdate) return 'stored';
    if (after.length === 0) await deps.peers.registrationEnded(peer.name);
    const [first] = byPreference(after);
    const fitted = fitToColumns(
      first
        ? registeredColumns(peer, first, { systemName: config.systemName, saveSystemName: config.rtsavesysname })
        : CLEARED_REGISTRATION,
      deps.columnSizes,
    );
    try {
      await deps.store.writeRegistration(peer.name, fitted.columns);
      if (fitted.truncated.length > 0) truncated(peer.name, fitted.truncated);
    } catch (error) {
      await deps.cache.swapBindings(peer.name, after, before, bindingTtl(before, now)).catch(() => undefined);
      throw error;
    }
    return 'stored';
  }

  /** Applies one REGISTER to the AoR's bindings, reading them again when a concurrent writer came first. */
  async function register(exchange: ServerExchange, peer: PeerRow): Promise<void> {
    const { request } = exchange;
    for (let attempt = 1; attempt <= SWAP_ATTEMPTS; attempt++) {
      const now = deps.clock.now().getTime();
      const before = await deps.cache.getBindings(peer.name);
      const result = applyRegister(
        before,
        {
          aor: peer.name,
          contacts: contactEntries(request),
          expiresHeader: numberOrUndefined(request.header('expires')),
          callId: request.callId ?? '',
          cseq: request.cseq?.seq ?? 0,
          source: request.source,
          userAgent: request.header('user-agent'),
          node: deps.nodeAddress,
        },
        {
          defaultExpiresSeconds: config.defaultExpiresSeconds,
          minExpiresSeconds: config.minExpiresSeconds,
          maxExpiresSeconds: config.maxExpiresSeconds,
          maxContacts: config.maxContacts,
          expiresJitterPercent: config.expiresJitter,
        },
        now,
        deps.random,
      );
      if (!result.ok) {
        bindingsRefused(request, result.reason);
        exchange.reply(result.status, { reason: result.reason, headers: result.headers ?? {} });
        return;
      }
      // The bindings that live no longer than the connection this REGISTER came over (none over UDP, which has none).
      const onFlow = request.source.transport === 'udp' ? [] : boundToFlow(result.bindings, request.source);
      if (result.changed) {
        if ((await store(peer, before, result.bindings, now)) === 'changed') continue;
        if (onFlow.length > 0)
          flows.set(flowKey(request.source), (flows.get(flowKey(request.source)) ?? new Set()).add(peer.name));
        const hadLive = before.some((binding) => binding.expiresAt > now);
        deps.observer.registration(
          result.bindings.length === 0 ? 'unregistered' : hadLive ? 'refreshed' : 'registered',
        );
      }
      const contacts = contactHeaderValues(result.bindings, now);
      // RFC 5626 §6: outbound accepted for a flow-bound registration; the phone keeps the flow alive within Flow-Timer.
      const outbound = onFlow.some(asksOutbound)
        ? { Require: 'outbound', 'Flow-Timer': String(deps.flowTimerSeconds) }
        : undefined;
      exchange.reply(200, {
        headers: {
          ...(contacts.length > 0 ? { Contact: contacts.join(', ') } : {}),
          ...(outbound ?? {}),
          Date: new Date(now).toUTCString(),
        },
      });
      return;
    }
    log.warn(
      { callId: request.callId, peer: peer.name },
      `REGISTER of ${peer.name} not applied: its bindings changed under it ${SWAP_ATTEMPTS} times in a row`,
    );
    exchange.reply(500, {
      reason: 'Server Internal Error (concurrent REGISTERs for this AoR, try again)',
      headers: { 'Retry-After': '1' },
    });
  }

  /** Ends the flow's bindings of one AoR, as a REGISTER with Expires 0 for them would (the row cleared when none is left). */
  async function endFlowBindings(name: string, flow: Endpoint): Promise<void> {
    const peer = await deps.peers.find(name);
    if (!peer) return;
    for (let attempt = 1; attempt <= SWAP_ATTEMPTS; attempt++) {
      const now = deps.clock.now().getTime();
      const before = await deps.cache.getBindings(name);
      const ended = boundToFlow(before, flow);
      if (ended.length === 0) return;
      const after = before.filter((binding) => !ended.includes(binding));
      if ((await store(peer, before, after, now)) === 'stored') {
        log.info(
          { peer: name, flow: flowKey(flow) },
          `${ended.length === 1 ? 'binding' : `${ended.length} bindings`} of ${name} ended with the ${flow.transport.toUpperCase()} connection from ${flow.address}:${flow.port} it was registered over`,
        );
        return;
      }
    }
  }

  return {
    step: async (exchange) => {
      const { request } = exchange;
      const to = request.to ? parseSipUri(request.to.uri) : undefined;
      const user = to?.ok ? to.uri.user : undefined;
      if (!user) {
        exchange.reply(404, { reason: 'Not Found (no user in To)' });
        return;
      }
      const peer = await authenticate(exchange, user);
      if (peer) await queue.run(peer.name, () => register(exchange, peer));
    },
    async flowClosed(flow) {
      const key = flowKey(flow);
      const names = flows.get(key);
      if (!names) return;
      flows.delete(key);
      for (const name of names) {
        await queue
          .run(name, () => endFlowBindings(name, flow))
          .catch((error: unknown) => {
            log.warn(
              { err: error, peer: name, flow: key },
              `bindings of ${name} on the closed connection ${key} not ended (${errorMessage(error)}): they run out at their expiry`,
            );
          });
      }
    },
  };
}
