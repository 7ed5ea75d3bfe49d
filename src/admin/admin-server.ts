import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { AdminConfig } from '../config/schema.js';
import { DrouterError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { AdminError, type AdminReply, type AdminRoute, errorBody } from './admin-contract.js';
import { adminBindError } from './admin-bind-error.js';
import { adminRequestGuard } from './request-guard.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** AdminRoute.bodyText: the JSON parser hands the route the text. */
    bodyText?: boolean;
  }
}

export interface AdminServer {
  /** `http://address:port` actually bound (port 0 resolves to the real one). */
  readonly url: string;
  close(): Promise<void>;
}

/** The HTTP status of an error a route threw: its own, 400 for bad input, 503 when a store or cache is down, else 500. */
function statusOf(error: unknown): number {
  if (error instanceof AdminError) return error.status;
  if (error instanceof DrouterError) {
    if (error.code === 'DROUTER_ERR_USAGE') return 400;
    if (
      error.code === 'DROUTER_ERR_STORE_UNREACHABLE' ||
      error.code === 'DROUTER_ERR_CACHE_UNAVAILABLE' ||
      error.code === 'DROUTER_ERR_SCHEMA'
    )
      return 503;
  }
  return 500;
}

function send(reply: FastifyReply, result: AdminReply): FastifyReply {
  if ('text' in result) return reply.code(result.status).type(result.contentType).send(result.text);
  return reply.code(result.status).send(result.body);
}

/**
 * The admin HTTP API. Routes come in (admin-api.ts); this file only speaks
 * HTTP: JSON in and out, errors as `{ error: { code, message } }`, and
 * request-guard.ts's checks (Host, bearer token, JSON mutations) before
 * any route.
 */
export async function startAdminServer(
  config: AdminConfig,
  routes: readonly AdminRoute[],
  log: Logger,
): Promise<AdminServer> {
  const app: FastifyInstance = Fastify({ logger: false, forceCloseConnections: true });
  const verdictOf = adminRequestGuard(config);
  // Requests let through without the token (admin.openReads), for their routes to answer as open-reads.ts says.
  const anonymous = new WeakSet<object>();
  app.addHook('onRequest', async (request, reply) => {
    const { refusal, anonymous: open } = verdictOf(request.raw);
    if (refusal) await reply.code(refusal.status).headers(refusal.headers).send(refusal.body);
    else if (open) anonymous.add(request.raw);
  });
  // Every mutation is declared JSON, also `POST /gateways/1/disable` without a body: an empty one is no body, not bad JSON.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (request.routeOptions.config.bodyText) done(null, text);
    else if (text === '') done(null, undefined);
    // fastify's default JSON parser is of the callback form: it answers through done and returns nothing.
    else void parseJson(request, text, done);
  });
  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.path,
      config: { bodyText: route.bodyText === true },
      handler: async (request, reply) => {
        try {
          const result = await route.handler({
            params: request.params as Record<string, string>,
            query: request.query as Record<string, string | undefined>,
            body: request.body,
            anonymous: anonymous.has(request.raw),
          });
          return send(reply, result);
        } catch (error) {
          const status = statusOf(error);
          const message = errorMessage(error);
          if (status >= 500)
            log.error({ err: error, route: route.path }, `admin ${route.method} ${request.url} failed: ${message}`);
          return reply
            .code(status)
            .send(errorBody(error instanceof DrouterError ? error.code : 'DROUTER_ERR_INTERNAL', message));
        }
      },
    });
  }
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody('DROUTER_ERR_NOT_FOUND', `no admin route ${request.method} ${request.url}`)),
  );
  // A body that is not JSON (or not JSON at all) is the caller's mistake, said the same way as the others.
  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) =>
    reply
      .code(error.statusCode ?? 500)
      .send(
        errorBody(
          error.statusCode !== undefined && error.statusCode < 500 ? 'DROUTER_ERR_USAGE' : 'DROUTER_ERR_INTERNAL',
          error.message,
        ),
      ),
  );
  // exclusive: a worker of --workers N serves its own port (0: any), not one shared through the cluster's primary.
  try {
    await app.listen({ host: config.address, port: config.port, exclusive: true });
  } catch (error) {
    throw adminBindError(config, error);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.address.includes(':') ? `[${config.address}]` : config.address;
  return {
    url: `http://${host}:${port}`,
    close: () => app.close(),
  };
}
