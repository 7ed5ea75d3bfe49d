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
  /** Its first SIP contact. */
  sip: { address: string; port: number; transports: string };
  /** More contacts, whole (`sips:127.0.0.1:5061;transport=tls`: sofia binds TLS and WSS only for a sips: contact). */
  moreContacts?: readonly string[] | undefined;
  /**
   * Its <tls> files, for the tls and wss contacts. sofia reads the chain file as the CA list
   * and refuses to start TLS without one (it falls back to ./cafile.pem).
   */
  tls?: { keyFile: string; certFile: string; chainFile: string } | undefined;
  /** Inbound mode: `tcp://host:port` drachtio-server connects to for every new request. */
  requestHandler?: string | undefined;
  /** Its own log level (`notice`, `warning` …); sofia's is off. */
  logLevel: string;
}

/** The config file (v0.9.4 format: `<admin>`, contacts, console logging). */
export function drachtioConfigXml(config: DrachtioConfig): string {
  const handler = config.requestHandler
    ? `  <request-handlers>\n    <request-handler sip-method="*">${config.requestHandler}</request-handler>\n  </request-handlers>\n`
    : '';
  const more = (config.moreContacts ?? []).map((contact) => `      <contact>${contact}</contact>\n`).join('');
  const tls = config.tls
    ? `    <tls>\n      <key-file>${config.tls.keyFile}</key-file>\n      <cert-file>${config.tls.certFile}</cert-file>\n      <chain-file>${config.tls.chainFile}</chain-file>\n    </tls>\n`
    : '';
  return `<drachtio>
  <admin port="${config.adminPort}" secret="${config.secret}">127.0.0.1</admin>
${handler}  <sip>
    <contacts>
      <contact>sip:${config.sip.address}:${config.sip.port};transport=${config.sip.transports}</contact>
${more}    </contacts>
${tls}  </sip>
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
