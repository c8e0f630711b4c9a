/** A self-signed certificate for 127.0.0.1 made with `openssl`, for a TLS redis-server in the battery. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SelfSignedCertificate {
  dir: string;
  certFile: string;
  keyFile: string;
  /** The certificate in PEM, to trust as the CA. */
  pem: string;
}

export function makeSelfSignedCertificate(): SelfSignedCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'q-tls-'));
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
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
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
