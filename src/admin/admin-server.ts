import Fastify, { type FastifyInstance } from 'fastify';
import type { AdminConfig } from '../config/schema.js';

/** A JSON reply with its HTTP status, as the core produces it. */
export interface JsonReply {
  status: number;
  body: unknown;
}

export interface AdminRoutes {
  health(): Promise<JsonReply>;
}

export interface AdminServer {
  /** `http://address:port` actually bound (port 0 resolves to the real one). */
  readonly url: string;
  close(): Promise<void>;
}

/** The admin HTTP API. Routes are handed in; this file only speaks HTTP. */
export async function startAdminServer(config: AdminConfig, routes: AdminRoutes): Promise<AdminServer> {
  const app: FastifyInstance = Fastify({ logger: false, forceCloseConnections: true });
  app.get('/health', async (_request, reply) => {
    const { status, body } = await routes.health();
    return reply.code(status).send(body);
  });
  await app.listen({ host: config.address, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.address.includes(':') ? `[${config.address}]` : config.address;
  return {
    url: `http://${host}:${port}`,
    close: () => app.close(),
  };
}
