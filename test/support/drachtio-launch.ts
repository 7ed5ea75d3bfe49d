import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';

/**
 * Starting a drachtio-server of our own, for a test or a benchmark: the
 * config file it is given, and the wait for it to take connections.
 */

/** What a drachtio-server config file written for a test or a benchmark says. */
export interface DrachtioConfig {
  adminPort: number;
  secret: string;
  /** Its one SIP contact. */
  sip: { address: string; port: number; transports: string };
  /** Inbound mode: `tcp://host:port` drachtio-server connects to for every new request. */
  requestHandler?: string | undefined;
  /** Its own log level (`notice`, `warning` …); sofia's is off. */
  logLevel: string;
}

/** The config file (v0.9.4 format: `<admin>`, contacts, console logging). */
export function drachtioConfigXml(config: DrachtioConfig): string {
  const handler = config.requestHandler ? `  <request-handlers>\n    <request-handler sip-method="*">${config.requestHandler}</request-handler>\n  </request-handlers>\n` : '';
  return `<drachtio>
  <admin port="${config.adminPort}" secret="${config.secret}">127.0.0.1</admin>
${handler}  <sip>
    <contacts>
      <contact>sip:${config.sip.address}:${config.sip.port};transport=${config.sip.transports}</contact>
    </contacts>
  </sip>
  <cdrs>false</cdrs>
  <logging>
    <console/>
    <sofia-loglevel>0</sofia-loglevel>
    <loglevel>${config.logLevel}</loglevel>
  </logging>
</drachtio>
`;
}

/** Waits until the started drachtio-server takes connections on its admin port: false when it exited or `timeoutMs` passed first. */
export async function adminPortOpened(child: ChildProcess, adminPort: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    if (await accepts(adminPort)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

async function accepts(port: number): Promise<boolean> {
  const socket = connect({ host: '127.0.0.1', port });
  try {
    await once(socket, 'connect');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}
