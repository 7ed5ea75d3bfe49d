/**
 * Every sipdr_* metric as it is exposed: name, help, label names and, for a
 * gauge, how the cluster's primary combines the workers' values. Metrics
 * (metrics.ts) registers them in this order and says when each changes.
 */

/** Probe round trips from a LAN gateway (~1 ms) to one about to time out (seconds). */
const PROBE_RTT_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

// Every worker of a node shows the same shared state: summed over workers it would count N times, so the node shows one worker's.
export const SIPDR_GATEWAY_UP = {
  name: 'sipdr_gateway_up',
  help: 'Whether the gateway takes calls: 1 when active, 0 when disabled by probing or by admin.',
  labelNames: ['gateway'],
  aggregator: 'first',
} as const;

export const SIPDR_GATEWAY_STATE = {
  name: 'sipdr_gateway_state',
  help: "The gateway's state: 1 on the series of its current state, 0 on the two others.",
  labelNames: ['gateway', 'state'],
  aggregator: 'first',
} as const;

export const SIPDR_GATEWAY_STATE_CHANGES_TOTAL = {
  name: 'sipdr_gateway_state_changes_total',
  help: 'Changes of gateway state, labelled with the state entered.',
  labelNames: ['gateway', 'state'],
} as const;

export const SIPDR_PROBE_RTT_SECONDS = {
  name: 'sipdr_probe_rtt_seconds',
  help: 'Round-trip time of the OPTIONS probes a gateway answered.',
  labelNames: ['gateway'],
  buckets: PROBE_RTT_BUCKETS_SECONDS,
} as const;

export const SIPDR_PROBE_FAILURES_TOTAL = {
  name: 'sipdr_probe_failures_total',
  help: 'OPTIONS probes that failed, by reason: timeout, negative-reply or send-failed.',
  labelNames: ['gateway', 'reason'],
} as const;

export const SIPDR_ROUTING_DECISIONS_TOTAL = {
  name: 'sipdr_routing_decisions_total',
  help: 'Routing decisions for new requests, by outcome: routed, no-rule, no-gateway, registered or offline.',
  labelNames: ['outcome'],
} as const;

export const SIPDR_FAILOVERS_TOTAL = {
  name: 'sipdr_failovers_total',
  help: 'Calls that moved on from this gateway to their next destination.',
  labelNames: ['gateway'],
} as const;

export const SIPDR_REGISTRATIONS_TOTAL = {
  name: 'sipdr_registrations_total',
  help: 'REGISTER requests handled, by result.',
  labelNames: ['result'],
} as const;

export const SIPDR_BINDINGS_REFILLED_TOTAL = {
  name: 'sipdr_bindings_refilled_total',
  help: 'Bindings put back into a cache that had lost them (restarted empty), from the sippeers rows, by the leader.',
  labelNames: [],
} as const;

export const SIPDR_BINDINGS = {
  name: 'sipdr_bindings',
  help: 'Addresses of record with at least one live binding, read from the location store at each scrape (absent when it cannot be read).',
  labelNames: [],
  aggregator: 'first',
} as const;

export const SIPDR_SIP_REQUESTS_TOTAL = {
  name: 'sipdr_sip_requests_total',
  help: 'SIP requests received, by method (a method we do not know counts as other).',
  labelNames: ['method'],
} as const;

export const SIPDR_SIP_RESPONSES_TOTAL = {
  name: 'sipdr_sip_responses_total',
  help: 'SIP responses sent upstream, by method of the request and status code.',
  labelNames: ['method', 'code'],
} as const;

export const SIPDR_RELOADS_TOTAL = {
  name: 'sipdr_reloads_total',
  help: 'Reloads of the routing data, by result.',
  labelNames: ['result'],
} as const;

// Every worker of a node loads the same rows.
export const SIPDR_ROUTING_ROWS_SKIPPED = {
  name: 'sipdr_routing_rows_skipped',
  help: 'Drouting rows left out of the routing snapshot in use, as OpenSIPS 3.x leaves them out (a bad timerec, an unparsable gwlist, a probe_mode it does not know …), by table; set at each load.',
  labelNames: ['table'],
  aggregator: 'first',
} as const;

export const SIPDR_WORKER_HANDOFFS_TOTAL = {
  name: 'sipdr_worker_handoffs_total',
  help: "With --workers N: messages a worker handed to the worker that owns them, by kind: request (owned by its branch), response (to that worker's request), tcp-send (over a TCP connection that worker holds).",
  labelNames: ['kind'],
} as const;

export const SIPDR_TCP_CONNECTIONS_REFUSED_TOTAL = {
  name: 'sipdr_tcp_connections_refused_total',
  help: 'Native engine: accepted TCP connections closed at once because a cap was reached, by cap: total (sip.tcp.maxConnections) or per-source (sip.tcp.maxConnectionsPerSource).',
  labelNames: ['cap'],
} as const;

export const SIPDR_TCP_CONNECTIONS_CLOSED_TOTAL = {
  name: 'sipdr_tcp_connections_closed_total',
  help: 'Native engine: TCP connections closed by a limit, by reason: idle (sip.tcp.idleTimeoutMs), message-timeout (a message not whole within sip.tcp.messageTimeoutMs), oversized (a head or body over its cap).',
  labelNames: ['reason'],
} as const;

export const SIPDR_REQUESTS_DROPPED_TOTAL = {
  name: 'sipdr_requests_dropped_total',
  help: 'Requests dropped without an answer, by reason: banned (the source is banned; on the native engine over UDP dropped before parsing), rate-limited (over its limits.* rate), scanner (a User-Agent of limits.scannerUserAgents).',
  labelNames: ['reason'],
} as const;

export const SIPDR_BANS_TOTAL = {
  name: 'sipdr_bans_total',
  help: 'Sources this process banned: failures or scanner requests past limits.ban.failures, a failure against a user past limits.ban.userFailures, or drops over the rate past limits.ban.overRate.',
  labelNames: [],
} as const;

// Every worker of a node reads the same shared list.
export const SIPDR_BANNED_SOURCES = {
  name: 'sipdr_banned_sources',
  help: 'Sources under a ban now, as this node knows them (the shared list, read every second).',
  labelNames: [],
  aggregator: 'first',
} as const;

export const SIPDR_REQUESTS_SHED_TOTAL = {
  name: 'sipdr_requests_shed_total',
  help: 'New INVITEs and REGISTERs answered 503 with Retry-After because the server was overloaded (overload.*), by method.',
  labelNames: ['method'],
} as const;

export const SIPDR_OVERLOADED = {
  name: 'sipdr_overloaded',
  help: 'Whether the server sheds new work now (1) or not (0): within the last second the event loop ran late past overload.maxLagMs, was busy past overload.maxLoopUtilization, or overload.maxInvitesInProgress was reached.',
  labelNames: [],
  aggregator: 'max',
} as const;

export const SIPDR_DRACHTIO_CONNECTED = {
  name: 'sipdr_drachtio_connected',
  help: 'drachtio engine: 1 while the link to the drachtio-server is up, 0 while it is lost (absent on the native engine; in inbound mode it follows /health sip.ok).',
  labelNames: ['server'],
} as const;

export const SIPDR_DRACHTIO_DISCONNECTIONS_TOTAL = {
  name: 'sipdr_drachtio_disconnections_total',
  help: 'drachtio engine: times the connection to the drachtio-server was lost after start.',
  labelNames: ['server'],
} as const;

export const SIPDR_DRACHTIO_RECONNECTIONS_TOTAL = {
  name: 'sipdr_drachtio_reconnections_total',
  help: 'drachtio engine: times the connection to the drachtio-server came back after a loss.',
  labelNames: ['server'],
} as const;

export const SIPDR_HA_LEADER = {
  name: 'sipdr_ha_leader',
  help: 'Whether this process holds the leader lease and so runs the probing and the expiry sweep: 1 or 0.',
  labelNames: [],
} as const;

export const SIPDR_HA_LEADER_CHANGES_TOTAL = {
  name: 'sipdr_ha_leader_changes_total',
  help: 'Times this process became the leader or stopped being it, labelled with the role entered.',
  labelNames: ['role'],
} as const;

// The workers of a node run one build: summed, a node of N workers would show N.
export const SIPDR_BUILD_INFO = {
  name: 'sipdr_build_info',
  help: 'Always 1; its labels say what runs: version (package.json), node (Node.js version), engine (sip.engine).',
  labelNames: ['version', 'node', 'engine'],
  aggregator: 'first',
} as const;
