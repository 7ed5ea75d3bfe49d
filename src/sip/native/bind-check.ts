import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { isIPv6 } from 'node:net';
import type { Transport } from '../engine.js';

/**
 * The `sip` package binds its sockets without an error listener, so a
 * taken port would crash the process. Binding once here first turns that
 * into an error that names the address.
 */
export async function checkCanBind(address: string, port: number, transports: readonly Transport[]): Promise<void> {
  if (transports.includes('udp')) {
    const socket = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
    try {
      socket.bind(port, address);
      await Promise.race([
        once(socket, 'listening'),
        once(socket, 'error').then(([error]) => Promise.reject(error as Error)),
      ]);
    } finally {
      socket.close();
    }
  }
  if (transports.includes('tcp')) {
    const server = createServer();
    try {
      server.listen(port, address);
      await Promise.race([
        once(server, 'listening'),
        once(server, 'error').then(([error]) => Promise.reject(error as Error)),
      ]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
