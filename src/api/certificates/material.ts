/** Parsing and checking certificates handed to the trust store (LXD certificateValidate). */
import { X509Certificate, createHash } from 'node:crypto';
import { errors } from '../../shared/index.js';

/** A parsed certificate, ready for the trust store. */
export interface CertificateMaterial {
  readonly pem: string;
  readonly fingerprint: string;
  readonly commonName: string;
}

/** From base64 DER (the `certificate` of `POST /1.0/certificates`). Throws INVALID_ARGUMENT. */
export function certificateFromBase64Der(b64: string, now: number): CertificateMaterial {
  const der = Buffer.from(b64, 'base64');
  if (der.length === 0 || der.toString('base64').replace(/=+$/, '') !== b64.replace(/\s+/g, '').replace(/=+$/, '')) {
    throw errors.invalid('Invalid certificate material: not base64');
  }
  return check(parse(der), now);
}

/** From PEM (the `certificate` of `PUT /1.0/certificates/<fp>`, or a TLS peer). Throws INVALID_ARGUMENT. */
export function certificateFromPem(pem: string, now: number): CertificateMaterial {
  return check(parse(pem), now);
}

function parse(input: Buffer | string): X509Certificate {
  try {
    return new X509Certificate(input);
  } catch (err) {
    throw errors.invalid(`Invalid certificate material: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function check(cert: X509Certificate, now: number): CertificateMaterial {
  if (now < Date.parse(cert.validFrom)) throw errors.invalid("The provided certificate isn't valid yet");
  if (now > Date.parse(cert.validTo)) throw errors.invalid('The provided certificate is expired');
  const key = cert.publicKey;
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw errors.invalid('RSA key is too weak (minimum of 2048bit)');
  }
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? '';
  return { pem: cert.toString(), fingerprint: createHash('sha256').update(cert.raw).digest('hex'), commonName: cn };
}
