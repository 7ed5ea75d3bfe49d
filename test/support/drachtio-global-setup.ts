import { randomBytes } from 'node:crypto';
import { DRACHTIO_BINARY, DrachtioServerProcess } from './drachtio-server.js';
import { freePort } from './drouter-process.js';

/**
 * vitest's global setup for a run on the drachtio engine
 * (DROUTER_TEST_ENGINE=drachtio) that names no drachtio-server of its own
 * (DROUTER_TEST_DRACHTIO_SERVER): starts one from DROUTER_TEST_DRACHTIO_BINARY
 * for the whole run and names it to the test files, which inherit this
 * process's environment. Its contact is 127.0.0.210:5060, an address no test
 * binds, on port 5060 so that a Request-URI without a port names it.
 * Nothing to do on the native engine.
 */
const DRACHTIO_TEST_CONTACT = { address: '127.0.0.210', port: 5060 };

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.DROUTER_TEST_ENGINE !== 'drachtio' || process.env.DROUTER_TEST_DRACHTIO_SERVER) return undefined;
  if (!DRACHTIO_BINARY)
    throw new Error(
      'DROUTER_TEST_ENGINE=drachtio needs DROUTER_TEST_DRACHTIO_SERVER=host:port:secret or DROUTER_TEST_DRACHTIO_BINARY to start one',
    );
  const secret = randomBytes(8).toString('hex');
  const server = new DrachtioServerProcess(DRACHTIO_BINARY, {
    adminPort: await freePort(),
    secret,
    sipAddress: DRACHTIO_TEST_CONTACT.address,
    sipPort: DRACHTIO_TEST_CONTACT.port,
  });
  await server.start();
  process.env.DROUTER_TEST_DRACHTIO_SERVER = `127.0.0.1:${server.options.adminPort}:${secret}`;
  return () => server.close();
}
