import { formatRowProblem, UsageError } from '../errors.js';
import { parseNotifyArguments } from '../ha/keepalived-state.js';
import type { PeerRow } from '../core/model/sippeers-table.js';
import { mayRegister } from '../registrar/core/realtime-peer.js';
import { routeAnswerJson } from '../routing/core/format-decision.js';
import { parseRouteQuery } from '../routing/core/route-query.js';
import type { ReloadReport } from '../routing/routing-service.js';
import type { Gateway } from '../routing/core/routing-table.js';
import { AdminError, type AdminDeps, type AdminReply, type AdminRequest, type AdminRoute } from './admin-contract.js';
import { health } from './health.js';
import { OPEN_READ_REUSE_MS, reusedFor, statusOnly } from './open-reads.js';

const ok = (body: unknown): AdminReply => ({ status: 200, body });

function iso(epochMs: number | null): string | null {
  return epochMs === null ? null : new Date(epochMs).toISOString();
}

/**
 * The admin API's routes, independent of the HTTP server (admin-server.ts
 * serves them): the live picture of gateways, carriers, peers and routing,
 * and the operator's levers.
 */
export function adminRoutes(deps: AdminDeps): AdminRoute[] {
  const table = () => deps.routing.current.destinations;

  function gateway(gwid: string | undefined): Gateway {
    const found = table().gateways.get(gwid ?? '');
    if (!found)
      throw new AdminError(
        404,
        'DROUTER_ERR_NOT_FOUND',
        `no gateway with gwid ${JSON.stringify(gwid)} in the routing data`,
      );
    return found;
  }

  function gatewayJson(gw: Gateway) {
    const health = deps.gateways.healthOf(gw.gwid);
    return {
      gwid: gw.gwid,
      address: gw.address.hostPort,
      state: deps.gateways.stateOf(gw),
      reason: health?.reason ?? null,
      since: iso(health?.since ?? null),
      lastRttMs: health?.lastRttMs ?? null,
      lastProbeAt: iso(health?.lastProbeAt ?? null),
      probeMode: gw.probeMode,
      description: gw.description,
    };
  }

  function carrierJson(carrierid: string) {
    const carrier = table().carriers.get(carrierid);
    if (!carrier)
      throw new AdminError(
        404,
        'DROUTER_ERR_NOT_FOUND',
        `no carrier with carrierid ${JSON.stringify(carrierid)} in the routing data`,
      );
    return {
      carrier,
      json: {
        carrierid,
        enabled: deps.carriers.enabledOf(carrier),
        gateways: carrier.members.map((member) => member.gateway.gwid),
        sortAlg: carrier.sortAlg,
        firstOnly: carrier.firstOnly,
      },
    };
  }

  async function setGateway(request: AdminRequest, enable: boolean): Promise<AdminReply> {
    const gw = gateway(request.params.gwid);
    await deps.gateways.apply(gw, { kind: 'admin', enable });
    return ok(gatewayJson(gw));
  }

  async function setCarrier(request: AdminRequest, enabled: boolean): Promise<AdminReply> {
    const { carrier } = carrierJson(request.params.id ?? '');
    await deps.carriers.set(carrier, enabled);
    return ok(carrierJson(carrier.carrierid).json);
  }

  async function peerStatus(name: string) {
    const location = await deps.locate({
      scheme: 'sip',
      user: name,
      password: undefined,
      host: deps.engine.local.address,
      port: undefined,
      params: [],
      headers: undefined,
    });
    return location.kind === 'registered' ? 'registered' : 'unregistered';
  }

  function reloadJson(report: ReloadReport) {
    return {
      ok: report.ok,
      generation: report.generation,
      loadedAt: deps.routing.current.loadedAt.toISOString(),
      durationMs: Math.round(report.durationMs),
      counts: report.counts,
      warnings: report.warnings.map(formatRowProblem),
      skipped: report.skipped.map(formatRowProblem),
      errors: report.errors.map(formatRowProblem),
    };
  }

  const metrics = async (): Promise<AdminReply> => {
    const { contentType, text } = await deps.metrics.exposition();
    return { status: 200, text, contentType };
  };
  const now = () => deps.clock.now().getTime();
  const openMetrics = reusedFor(OPEN_READ_REUSE_MS, now, metrics);
  const openHealth = reusedFor(OPEN_READ_REUSE_MS, now, async (): Promise<AdminReply> => {
    const full = await health(deps);
    return { status: full.status, body: statusOnly('body' in full ? full.body : undefined) };
  });

  return [
    { method: 'GET', path: '/metrics', handler: (request) => (request.anonymous ? openMetrics() : metrics()) },
    { method: 'GET', path: '/gateways', handler: async () => ok([...table().gateways.values()].map(gatewayJson)) },
    {
      method: 'GET',
      path: '/gateways/:gwid',
      handler: async (request) => ok(gatewayJson(gateway(request.params.gwid))),
    },
    { method: 'POST', path: '/gateways/:gwid/enable', handler: (request) => setGateway(request, true) },
    { method: 'POST', path: '/gateways/:gwid/disable', handler: (request) => setGateway(request, false) },
    {
      method: 'GET',
      path: '/carriers',
      handler: async () => ok([...table().carriers.keys()].map((carrierid) => carrierJson(carrierid).json)),
    },
    { method: 'POST', path: '/carriers/:id/enable', handler: (request) => setCarrier(request, true) },
    { method: 'POST', path: '/carriers/:id/disable', handler: (request) => setCarrier(request, false) },
    {
      method: 'POST',
      path: '/reload',
      handler: async (request) => {
        const body = (request.body ?? {}) as { inheritState?: unknown };
        if (body.inheritState !== undefined && typeof body.inheritState !== 'boolean')
          throw new UsageError('inheritState: expected true or false');
        const report = await deps.reload(body.inheritState === undefined ? {} : { inheritState: body.inheritState });
        return { status: report.ok ? 200 : 422, body: reloadJson(report) };
      },
    },
    { method: 'GET', path: '/reload', handler: async () => ok(reloadJson(deps.lastReload())) },
    {
      method: 'GET',
      path: '/route',
      handler: async (request) => {
        const number = request.query.number;
        if (!number) throw new UsageError('number: the number to route is required (?number=…)');
        const query = parseRouteQuery(request.query);
        const at = query.at ?? deps.clock.now();
        const decision = deps.routing.route({
          number,
          caller: query.caller,
          group: query.group,
          at,
          whitelist: query.whitelist,
          partition: query.partition,
          strictLength: routeFlag('strict', request.query.strict),
          ruleFallback: routeFlag('fallback', request.query.fallback),
          explain: true,
        });
        return ok(routeAnswerJson(decision, at));
      },
    },
    {
      method: 'GET',
      path: '/peers',
      handler: async () => {
        const rows = await deps.store.listPeers();
        return ok(
          await Promise.all(
            rows.map(async (row) => ({
              name: row.name,
              ...peerAddress(row),
              dynamic: row.host === 'dynamic',
              status: mayRegister(row) ? await peerStatus(row.name) : 'unmonitored',
              realtime: true,
            })),
          ),
        );
      },
    },
    {
      method: 'GET',
      path: '/peers/:name',
      handler: async (request) => {
        const name = request.params.name ?? '';
        const row = await deps.peers.find(name);
        if (!row)
          throw new AdminError(404, 'DROUTER_ERR_NOT_FOUND', `no peer named ${JSON.stringify(name)} in sippeers`);
        const now = deps.clock.now().getTime();
        const bindings = (await deps.cache.getBindings(name)).filter((binding) => binding.expiresAt > now);
        return ok({
          ...row,
          // Credentials never leave the process.
          secret: row.secret ? '***' : null,
          md5secret: row.md5secret ? '***' : null,
          status: mayRegister(row) ? await peerStatus(name) : 'unmonitored',
          bindings: bindings.map((binding) => ({
            contact: binding.contact,
            expiresInSeconds: Math.round((binding.expiresAt - now) / 1000),
            q: binding.q,
            source: `${binding.source.transport}:${binding.source.address}:${binding.source.port}`,
            userAgent: binding.userAgent ?? null,
          })),
        });
      },
    },
    {
      method: 'POST',
      path: '/peers/:name/prune',
      handler: async (request) => {
        const name = request.params.name ?? '';
        // As `sip prune realtime peer NAME` answers "Peer 'NAME' not found." for a peer not in memory.
        if (!(await deps.peers.prune(name)))
          throw new AdminError(
            404,
            'DROUTER_ERR_NOT_FOUND',
            `no cached peer named ${JSON.stringify(name)}: nothing to prune (registrar.rtcachefriends is off, or the peer was not looked up since it was last dropped)`,
          );
        return ok({ name, pruned: true });
      },
    },
    { method: 'GET', path: '/probing', handler: async () => ok({ probing: await deps.prober.enabled() }) },
    {
      method: 'POST',
      path: '/probing',
      handler: async (request) => {
        const on = (request.body as { on?: unknown } | undefined)?.on;
        if (typeof on !== 'boolean') throw new UsageError('on: expected {"on": true} or {"on": false}');
        await deps.prober.setEnabled(on);
        return ok({ probing: on });
      },
    },
    {
      method: 'GET',
      path: '/events',
      handler: async (request) => {
        const limit = request.query.limit === undefined ? 200 : Number(request.query.limit);
        if (!Number.isInteger(limit) || limit < 1)
          throw new UsageError(`limit ${JSON.stringify(request.query.limit)}: expected a whole number from 1 to 200`);
        const changes = await deps.gateways.history(limit);
        return ok(changes.map((change) => ({ ...change, at: new Date(change.at).toISOString() })));
      },
    },
    { method: 'GET', path: '/health', handler: (request) => (request.anonymous ? openHealth() : health(deps)) },
    { method: 'GET', path: '/ha', handler: async () => ok(await deps.leadership.status()) },
    {
      method: 'POST',
      path: '/ha/keepalived',
      handler: async (request) => {
        const state = (request.body as { state?: unknown } | undefined)?.state;
        if (typeof state !== 'string')
          throw new UsageError('state: expected {"state": "MASTER"} (or BACKUP, FAULT, STOP)');
        await deps.leadership.keepalivedSaid(parseNotifyArguments([state]));
        return ok(await deps.leadership.status());
      },
    },
  ];
}

/**
 * Where `sip show peers` says a peer is: a dynamic peer at the address it
 * registered from (none until it does: "(Unspecified)", port 0); a static
 * peer at its `host` (as written: chan_sip shows the address it resolved)
 * and its `port`, 5060 when the row has none.
 */
function peerAddress(row: Pick<PeerRow, 'host' | 'ipaddr' | 'port'>): { host: string | null; port: number | null } {
  if (!row.host || row.host === 'dynamic') return { host: row.ipaddr || null, port: row.port || null };
  return { host: row.host, port: row.port || DEFAULT_SIP_PORT };
}

const DEFAULT_SIP_PORT = 5060;

/** `?strict=` (OpenSIPS flag L) and `?fallback=` (flag F) of `GET /route`: absent, the configuration decides. */
function routeFlag(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false')
    throw new UsageError(`${name} ${JSON.stringify(value)}: expected true or false`);
  return value === 'true';
}
