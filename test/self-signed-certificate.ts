/** A self-signed certificate made with `openssl`, for a TLS redis-server in the tests and the battery. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SelfSignedCertificate {
  dir: string;
  certFile: string;
  keyFile: string;
  /** The certificate in PEM, to trust as the CA. */
  pem: string;
}

export interface SelfSignedCertificateOptions {
  /** The name (or IP address) the certificate is for, as its common name and subject alternative name. */
  host?: string;
  /** Where to write the files; a new temporary directory, for the caller to remove, unless given. */
  dir?: string;
}

export function makeSelfSignedCertificate({
  host = '127.0.0.1',
  dir = mkdtempSync(join(tmpdir(), 'q-tls-')),
}: SelfSignedCertificateOptions = {}): SelfSignedCertificate {
  const certFile = join(dir, 'redis.crt');
  const keyFile = join(dir, 'redis.key');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-subj',
        `/CN=${host}`,
        '-addext',
        `subjectAltName=${isIP(host) ? 'IP' : 'DNS'}:${host}`,
      ],
      { stdio: 'pipe' },
    );
  } catch (error) {
    throw new Error(
      `openssl could not make a self-signed certificate (${(error as Error).message}); install it with apt-get install openssl.`,
    );
  }
  return { dir, certFile, keyFile, pem: readFileSync(certFile, 'utf8') };
}
