import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { type ConnectionOptions, createSecureContext, type SecureContextOptions, type TlsOptions } from 'node:tls';
import { DrouterError, errorMessage } from '../../errors.js';

/** sip.tls: the certificate files and the policies (docs/engines.md "TLS"). */
export interface TlsSettings {
  port: number;
  certificateFile: string;
  keyFile: string;
  /** PEM bundle that peers' certificates must chain to; '' for Node's default CAs. */
  caFile: string;
  clientCertificates: 'none' | 'request' | 'require';
  /** Whether our connections out (gateways with transport=tls) check the server's certificate. */
  verifyServers: boolean;
}

type Files = Pick<SecureContextOptions, 'cert' | 'key' | 'ca'>;

/**
 * The certificate, key and CA of SIP over TLS, read from their files at
 * start and again at each reload (SIGHUP): a reload that fails names the
 * file and keeps what was read before.
 */
export class TlsCredentials {
  private constructor(
    readonly settings: TlsSettings,
    private files: Files,
  ) {}

  static async load(settings: TlsSettings): Promise<TlsCredentials> {
    return new TlsCredentials(settings, await readFiles(settings));
  }

  /** Reads the files again; the server's next handshakes use them (connections already open keep theirs). */
  async reload(): Promise<void> {
    this.files = await readFiles(this.settings);
  }

  /** For the listener: our certificate, and whether a client must show one of its own. */
  serverOptions(): TlsOptions {
    const { clientCertificates } = this.settings;
    return {
      ...this.files,
      requestCert: clientCertificates !== 'none',
      rejectUnauthorized: clientCertificates === 'require',
    };
  }

  /** For a connection out to `host`: our certificate as a client's, the CA its certificate must chain to, and its name to check. */
  clientOptions(host: string): ConnectionOptions {
    // SNI takes names only (RFC 6066 §3); an address is checked against the certificate's IP entries.
    return {
      ...this.files,
      rejectUnauthorized: this.settings.verifyServers,
      ...(isIP(host) === 0 ? { servername: host } : {}),
    };
  }
}

async function readFiles(settings: TlsSettings): Promise<Files> {
  const [cert, key, ca] = await Promise.all([
    readPem('sip.tls.certificateFile', settings.certificateFile),
    readPem('sip.tls.keyFile', settings.keyFile),
    settings.caFile === '' ? undefined : readPem('sip.tls.caFile', settings.caFile),
  ]);
  const files = { cert, key, ...(ca ? { ca } : {}) };
  try {
    // Parses all three and checks that the key is the certificate's.
    createSecureContext(files);
  } catch (error) {
    throw new DrouterError(
      'DROUTER_ERR_TLS',
      `the TLS certificate ${settings.certificateFile}, key ${settings.keyFile}${settings.caFile ? ` and CA ${settings.caFile}` : ''} do not make a usable TLS context: ${errorMessage(error)} (check that they are PEM and that the key is the certificate's)`,
      { cause: error },
    );
  }
  return files;
}

async function readPem(key: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new DrouterError('DROUTER_ERR_TLS', `${key} ${file} cannot be read: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}
