import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { errorBody } from '../admin/admin-contract.js';
import { MI_PATH, parseMiRequest } from '../admin/mi-http.js';
import { OPEN_READ_REUSE_MS, reusedFor, statusOnly } from '../admin/open-reads.js';
import { adminRequestGuard } from '../admin/request-guard.js';
import { adminBindError } from '../admin/admin-bind-error.js';
import type { AdminConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { ReadyWorker, WorkerStatus } from './worker-supervisor.js';
import { errorMessage } from '../errors.js';
import {
  type Answer,
  type Combine,
  combineHealth,
  combineMiReloads,
  FAN_OUT,
  json,
  parseJson,
} from './core/combine-answers.js';

/** What the front needs of the workers. */
export interface WorkerPool {
  ready(): ReadyWorker[];
  status(): WorkerStatus[];
  /** The node's /metrics: every worker's combined. */
  metrics(): Promise<{ contentType: string; text: string }>;
}

export interface AdminFront {
  readonly url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
/** A reload of a large routing table takes seconds; nothing else takes long. */
const FORWARD_TIMEOUT_MS = 60_000;

/**
 * The one admin address of a node running --workers N, served by the
 * primary. Each worker serves the admin API on its own 127.0.0.1 port; the
 * front forwards:
 * - GET /metrics: every worker's metrics, combined (counters summed);
 * - POST /reload: to every worker (each holds its own routing snapshot),
 *   answered with the first's report and each worker's outcome;
 * - GET /ha, POST /ha/keepalived: to every worker (each is a contender for
 *   the leader lease and must hear keepalived at once), answered with the
 *   leader's view when one of them leads;
 * - GET /health: every worker's, answered with the worst, the leader's
 *   `ha` block and every worker's line;
 * - anything else to one worker in turn. State-changing calls (gateway,
 *   carrier, probing) write the shared state in Redis, which every worker
 *   reads back within a second, as the nodes of a pair do.
 * The admin server's checks (Host, bearer token, JSON mutations:
 * request-guard.ts) are made here and again by the worker; an anonymous
 * read of admin.openReads is answered as open-reads.ts says, here too.
 */
export async function startAdminFront(config: AdminConfig, pool: WorkerPool, log: Logger): Promise<AdminFront> {
  let turn = 0;
  const verdictOf = adminRequestGuard(config);
  const nodeMetrics = async (): Promise<Answer> => {
    const { contentType, text } = await pool.metrics();
    return { worker: 0, status: 200, contentType, body: text };
  };
  const fanOut = async (request: ForwardedHead, body: Buffer, combine: Combine): Promise<Answer> =>
    combine(await Promise.all(pool.ready().map((worker) => forwardTo(worker, request, body))), pool.status());
  // Every anonymous read is the same request (a GET or HEAD without a token or a body): one answer serves them all for a second.
  const openMetrics = reusedFor(OPEN_READ_REUSE_MS, Date.now, nodeMetrics);
  const openHealth = reusedFor(OPEN_READ_REUSE_MS, Date.now, async () => {
    const combined = await fanOut({ method: 'GET', url: '/health', headers: {} }, Buffer.alloc(0), combineHealth);
    return json(combined, combined.status, statusOnly(parseJson(combined.body)));
  });
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log.error({ err: error }, `admin ${request.method} ${request.url} failed in the primary: ${errorMessage(error)}`);
      if (!response.headersSent) sendJson(response, 500, errorBody('DROUTER_ERR_INTERNAL', errorMessage(error)));
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { refusal, anonymous } = verdictOf(request);
    if (refusal) {
      sendJson(response, refusal.status, refusal.body, refusal.headers);
      return;
    }
    const body = await readBody(request);
    if (body === undefined) {
      sendJson(response, 413, errorBody('DROUTER_ERR_USAGE', `request body larger than ${MAX_BODY_BYTES} bytes`));
      return;
    }
    const method = request.method ?? 'GET';
    const path = new URL(request.url ?? '/', 'http://front').pathname;
    const workers = pool.ready();
    const first = workers[0];
    if (!first) {
      sendJson(
        response,
        503,
        errorBody(
          'DROUTER_ERR_INTERNAL',
          `no worker is ready to answer ${method} ${path} (${describeWorkers(pool.status())})`,
        ),
      );
      return;
    }
    if (anonymous) {
      send(response, await (path === '/metrics' ? openMetrics() : openHealth()));
      return;
    }
    if (method === 'GET' && path === '/metrics') {
      send(response, await nodeMetrics());
      return;
    }
    const combine = FAN_OUT[`${method} ${path}`] ?? miFanOut(method, path, body);
    if (combine) {
      send(response, await fanOut(request, body, combine));
      return;
    }
    send(response, await forwardTo(workers[turn++ % workers.length] ?? first, request, body));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(adminBindError(config, error)));
    server.listen(config.port, config.address, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.address.includes(':') ? `[${config.address}]` : config.address;
  return {
    url: `http://${host}:${port}`,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** What a forwarded request takes of the one received. */
type ForwardedHead = Pick<IncomingMessage, 'method' | 'url' | 'headers'>;

async function forwardTo(worker: ReadyWorker, request: ForwardedHead, body: Buffer): Promise<Answer> {
  const headers: Record<string, string> = {};
  for (const name of ['authorization', 'content-type', 'accept']) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const method = request.method ?? 'GET';
  try {
    const answer = await fetch(`${worker.adminUrl}${request.url ?? '/'}`, {
      method,
      headers,
      ...(method === 'GET' || method === 'HEAD' || body.length === 0 ? {} : { body }),
      signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
    });
    return {
      worker: worker.index,
      status: answer.status,
      contentType: answer.headers.get('content-type') ?? 'application/json',
      body: await answer.text(),
    };
  } catch (error) {
    const reason = errorMessage(error);
    const message = `worker ${worker.index} (pid ${worker.pid}) did not answer ${method} ${request.url}: ${reason}`;
    return {
      worker: worker.index,
      status: 502,
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify(errorBody('DROUTER_ERR_INTERNAL', message)),
    };
  }
}

/**
 * OpenSIPS MI over HTTP (POST /mi): dr_reload goes to every worker, as
 * POST /reload does (each holds its own snapshot); every other command to
 * one, its state being shared.
 */
function miFanOut(method: string, path: string, body: Buffer): Combine | undefined {
  if (method !== 'POST' || path !== MI_PATH) return undefined;
  const request = parseMiRequest(body.toString());
  return request.kind === 'call' && request.method === 'dr_reload' ? combineMiReloads : undefined;
}

function describeWorkers(workers: readonly WorkerStatus[]): string {
  return workers.map((w) => `worker ${w.worker} ${w.pid === null ? 'down' : 'starting'}`).join(', ');
}

function send(response: ServerResponse, answer: Answer): void {
  response.writeHead(answer.status, { 'content-type': answer.contentType });
  response.end(answer.body);
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}
