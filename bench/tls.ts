import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestCertificates } from '../test/support/test-certificates.js';
import { callProfile, REGISTERING_USERS, registrationProfile } from './load-profiles.js';
import {
  announceSippBenchmark,
  findSustainedRate,
  type LoadProfile,
  onCore,
  PROXY,
  SIPP_PHONE,
  work,
} from './sipp-load.js';

/**
 * `npm run bench -- --only tls` (issue 22): the registrations part's
 * REGISTER with digest and the calls part's calls to gateway 1, each over
 * UDP and then over TLS in the same run, on the native engine as one
 * process (TLS is refused on drachtio and with --workers).
 *
 * Debian's sipp is built without TLS (`sipp -h` offers no `l1`), so sipp
 * speaks TCP (`-t t1`, `-rsa` to stunnel; its messages still name the
 * proxy) to stunnel in client mode on core 1 beside it, which carries it
 * over TLS to the proxy's sip.tls.port from sipp's own address (so
 * auth.trustedSources and limits.exemptSources name it as over UDP),
 * checking the proxy's certificate (a test CA's, its address as an IP
 * subjectAltName). One sipp run is one TCP connection, so all the
 * REGISTERs or calls of a step share one TLS connection: the handshake is
 * paid once a step, not once a phone. stunnel's CPU is not counted in
 * the proxy's.
 */

/** Where stunnel takes sipp's TCP; it connects to the proxy's TLS port. */
const STUNNEL = { address: '127.0.0.63', port: 5061 };
const TLS_PORT = 5061;

const stunnelMissing = spawnSync('stunnel', ['-version']).error !== undefined;

/** A stunnel client (foreground, until killed) on core 1 with `configFile`. */
function startStunnel(configFile: string): ChildProcess {
  const [command, args] = onCore(1, 'stunnel', [configFile]);
  return spawn(command, args, { cwd: work, stdio: 'ignore' });
}

/** `profile` with sipp over TCP through stunnel to the proxy's TLS port, which the proxy takes with `certificate`. */
function overTls(
  profile: LoadProfile,
  stunnelConfig: string,
  certificate: { certificateFile: string; keyFile: string },
): LoadProfile {
  return {
    ...profile,
    label: `${profile.label}, over TLS (sipp TCP through stunnel)`,
    client: () => {
      const client = profile.client();
      return { file: client.file, args: [...client.args, '-t', 't1', '-rsa', `${STUNNEL.address}:${STUNNEL.port}`] };
    },
    // stunnel is started and killed with each step's gateways: a fresh proxy each step, a fresh connection to it.
    servers: () => [...profile.servers(), startStunnel(stunnelConfig)],
    proxyEnv: {
      ...profile.proxyEnv,
      DROUTER_SIP__TRANSPORTS: 'udp,tls',
      DROUTER_SIP__TLS__PORT: String(TLS_PORT),
      DROUTER_SIP__TLS__CERTIFICATE_FILE: certificate.certificateFile,
      DROUTER_SIP__TLS__KEY_FILE: certificate.keyFile,
    },
  };
}

/** stunnel's client configuration: TCP in on STUNNEL, TLS out from SIPP_PHONE to the proxy, its certificate checked against `caFile` and the proxy's address. */
function writeStunnelConfig(caFile: string): string {
  const file = join(work, 'stunnel.conf');
  const lines = [
    'foreground = yes',
    'pid =',
    `output = ${join(work, 'stunnel.log')}`,
    'debug = 4',
    '[sip-tls]',
    'client = yes',
    `accept = ${STUNNEL.address}:${STUNNEL.port}`,
    `connect = ${PROXY.address}:${TLS_PORT}`,
    `local = ${SIPP_PHONE}`,
    `CAfile = ${caFile}`,
    'verifyChain = yes',
    `checkIP = ${PROXY.address}`,
    // sipp sends at once on a busy connection: no Nagle delay on either side of stunnel.
    'socket = l:TCP_NODELAY=1',
    'socket = r:TCP_NODELAY=1',
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

if (stunnelMissing) {
  console.log('tls benchmark: stunnel is not installed (apt-get install stunnel4); skipped');
} else if (announceSippBenchmark('tls', `${REGISTERING_USERS} users, TLS through stunnel (sipp -t t1) on core 1`)) {
  const pki = makeTestCertificates();
  try {
    const certificate = pki.authority.server([PROXY.address]);
    const stunnelConfig = writeStunnelConfig(pki.authority.certificateFile);
    await findSustainedRate(registrationProfile(), 250);
    await findSustainedRate(overTls(registrationProfile(), stunnelConfig, certificate), 250);
    await findSustainedRate(callProfile('calls to gateway 1', 'uas-answer.xml'), 100);
    await findSustainedRate(
      overTls(callProfile('calls to gateway 1', 'uas-answer.xml'), stunnelConfig, certificate),
      100,
    );
  } finally {
    pki.remove();
  }
}
