import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AdminClient, AdminUnreachableError } from '../../src/admin/admin-client.js';

describe('the admin client', () => {
  it('gives up on a server that takes the connection and never answers, naming the wait', async () => {
    const sockets: Socket[] = [];
    // A node being killed or hung: the connection is accepted, nothing comes back.
    const silent = createServer((socket) => void sockets.push(socket));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as { port: number };
    try {
      const started = Date.now();
      const error = await new AdminClient(`http://127.0.0.1:${port}`, '', 300).get('/health').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AdminUnreachableError);
      expect((error as Error).message).toBe(
        `no admin API at http://127.0.0.1:${port}: no answer within 300 ms (the server does not run there, or --url is wrong)`,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});
