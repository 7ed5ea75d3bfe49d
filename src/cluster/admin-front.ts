import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { errorBody } from '../admin/admin-api.js';
import { tokenMatches, UNAUTHORIZED_BODY } from '../admin/bearer-token.js';
import type { AdminConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { ReadyWorker, WorkerStatus } from './worker-supervisor.js';

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

/** A worker's answer to a forwarded request. */
interface Answer {
  worker: number;
  status: number;
  contentType: string;
  body: string;
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
 * - GET /health: one worker's, with every worker's line added;
 * - anything else to one worker in turn. State-changing calls (gateway,
 *   carrier, probing) write the shared state in Redis, which every worker
 *   reads back within a second, as the nodes of a pair do.
 * The bearer token is checked here and again by the worker.
 */
export async function startAdminFront(config: AdminConfig, pool: WorkerPool, log: Logger): Promise<AdminFront> {
  let turn = 0;
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log.error({ err: error }, `admin ${request.method} ${request.url} failed in the primary: ${error instanceof Error ? error.message : String(error)}`);
      if (!response.headersSent) sendJson(response, 500, errorBody('DROUTER_ERR_INTERNAL', error instanceof Error ? error.message : String(error)));
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (config.token !== '' && !tokenMatches(request.headers.authorization, config.token)) {
      sendJson(response, 401, UNAUTHORIZED_BODY, { 'www-authenticate': 'Bearer' });
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
      sendJson(response, 503, errorBody('DROUTER_ERR_INTERNAL', `no worker is ready to answer ${method} ${path} (${describeWorkers(pool.status())})`));
      return;
    }
    if (method === 'GET' && path === '/metrics') {
      const { contentType, text } = await pool.metrics();
      send(response, { worker: 0, status: 200, contentType, body: text });
      return;
    }
    const forward = (worker: ReadyWorker) => forwardTo(worker, request, body);
    if (method === 'POST' && path === '/reload') {
      const answers = await Promise.all(workers.map(forward));
      send(response, combineReloads(answers));
      return;
    }
    if (method === 'GET' && path === '/health') {
      const answer = await forward(first);
      send(response, withWorkers(answer, pool.status()));
      return;
    }
    send(response, await forward(workers[turn++ % workers.length] ?? first));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
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

async function forwardTo(worker: ReadyWorker, request: IncomingMessage, body: Buffer): Promise<Answer> {
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
    return { worker: worker.index, status: answer.status, contentType: answer.headers.get('content-type') ?? 'application/json', body: await answer.text() };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const message = `worker ${worker.index} (pid ${worker.pid}) did not answer ${method} ${request.url}: ${reason}`;
    return { worker: worker.index, status: 502, contentType: 'application/json; charset=utf-8', body: JSON.stringify(errorBody('DROUTER_ERR_INTERNAL', message)) };
  }
}

/**
 * One reload report for the node: the first worker's, with every worker's
 * outcome under `workers`; 200 only when every worker reloaded, else the
 * worst status (422: the data was refused and the old snapshot stays).
 */
function combineReloads(answers: readonly Answer[]): Answer {
  const [first] = answers;
  if (!first) throw new Error('no worker answered the reload');
  const parsed = answers.map((answer) => ({ answer, body: parseJson(answer.body) }));
  const workers = parsed.map(({ answer, body }) => ({
    worker: answer.worker,
    status: answer.status,
    ok: body?.ok ?? false,
    generation: body?.generation ?? null,
    ...(body?.error ? { error: body.error } : {}),
  }));
  const status = Math.max(...answers.map((answer) => answer.status));
  const report = parsed.find(({ answer }) => answer.status === status)?.body ?? parsed[0]?.body ?? {};
  return { worker: first.worker, status, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ ...report, workers }) };
}

function withWorkers(answer: Answer, workers: readonly WorkerStatus[]): Answer {
  const body = parseJson(answer.body);
  if (!body) return answer;
  return { ...answer, body: JSON.stringify({ ...body, workers }) };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
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
