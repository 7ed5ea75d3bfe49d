import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its private key, each a PEM file, with the text a Node TLS context takes. */
export interface IssuedCertificate {
  certificateFile: string;
  keyFile: string;
  certificate: string;
  key: string;
  /** The serial as Node's getPeerCertificate() shows it (upper-case hex). */
  serialNumber: string;
}

/** EC P-256 keys: a key and its certificate take one openssl run of a few ms (RSA 2048 takes ten times that). */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Two days: long enough for any run, short enough that a leaked file is worth nothing. */
const DAYS = ['-days', '2'];

function openssl(args: readonly string[]): void {
  execFileSync('/usr/bin/openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function issued(certificateFile: string, keyFile: string): IssuedCertificate {
  const certificate = readFileSync(certificateFile, 'utf8');
  return {
    certificateFile,
    keyFile,
    certificate,
    key: readFileSync(keyFile, 'utf8'),
    serialNumber: new X509Certificate(certificate).serialNumber,
  };
}

/** A test certificate authority: its own certificate and key, and the certificates it signs, all in one folder. */
export class TestAuthority {
  private issuedCount = 0;

  private constructor(
    private readonly directory: string,
    readonly name: string,
    readonly own: IssuedCertificate,
  ) {}

  static create(directory: string, name: string): TestAuthority {
    const certificateFile = join(directory, `${name}.crt`);
    const keyFile = join(directory, `${name}.key`);
    openssl([
      'req',
      '-x509',
      ...NEW_KEY,
      ...DAYS,
      '-keyout',
      keyFile,
      '-out',
      certificateFile,
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return new TestAuthority(directory, name, issued(certificateFile, keyFile));
  }

  /** The CA's certificate file: what a peer trusting this CA is given (caFile). */
  get certificateFile(): string {
    return this.own.certificateFile;
  }

  /** A server certificate for `addresses` (IP subjectAltNames, which a client connecting to an address checks). */
  server(addresses: readonly string[]): IssuedCertificate {
    return this.sign('server', 'serverAuth', [
      `subjectAltName=${addresses.map((address) => `IP:${address}`).join(',')}`,
    ]);
  }

  /** A client certificate (a phone's, for sip.tls.clientCertificates). */
  client(commonName = 'phone'): IssuedCertificate {
    return this.sign(commonName, 'clientAuth', []);
  }

  private sign(commonName: string, purpose: string, extensions: readonly string[]): IssuedCertificate {
    // Each in files of its own: a test replaces the files of one certificate with those of another.
    const base = join(this.directory, `${this.name}-${commonName}-${++this.issuedCount}`);
    const addext = [...extensions, `extendedKeyUsage=${purpose}`, 'basicConstraints=CA:FALSE'].flatMap((extension) => [
      '-addext',
      extension,
    ]);
    openssl([
      'req',
      '-x509',
      ...NEW_KEY,
      ...DAYS,
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.crt`,
      '-subj',
      `/CN=${commonName}`,
      '-CA',
      this.own.certificateFile,
      '-CAkey',
      this.own.keyFile,
      ...addext,
    ]);
    return issued(`${base}.crt`, `${base}.key`);
  }
}

/** A test CA, a second one that signs for "someone else", the folder holding both and their certificates. */
export interface TestCertificates {
  directory: string;
  authority: TestAuthority;
  otherAuthority: TestAuthority;
  /** Removes the folder and every file in it. */
  remove(): void;
}

/** Two CAs in a new temporary folder, made with the openssl CLI. */
export function makeTestCertificates(): TestCertificates {
  const directory = mkdtempSync(join(tmpdir(), 'drouter-tls-'));
  try {
    return {
      directory,
      authority: TestAuthority.create(directory, 'test-ca'),
      otherAuthority: TestAuthority.create(directory, 'other-ca'),
      remove: () => rmSync(directory, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
}
