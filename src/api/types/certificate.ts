/** `/1.0/certificates` (shared/api/certificate.go). */
import { Type, type Static } from 'typebox';
import { NStringList, STRICT, StringList, Timestamp } from './common.js';

/** Certificate types LXD knows. */
export const CertificateType = { Client: 'client', Server: 'server', Metrics: 'metrics' } as const;
export type CertificateType = (typeof CertificateType)[keyof typeof CertificateType];

const certificateTypeSchema = Type.Union([Type.Literal('client'), Type.Literal('server'), Type.Literal('metrics')]);

/** A trusted certificate. `certificate` is PEM. */
export const Certificate = Type.Object({
  name: Type.String(),
  type: certificateTypeSchema,
  restricted: Type.Boolean(),
  projects: StringList,
  certificate: Type.String(),
  fingerprint: Type.String(),
});
export type Certificate = Static<typeof Certificate>;

/** `PUT|PATCH /1.0/certificates/<fingerprint>`. A different `certificate` (PEM) replaces the key material. */
export const CertificatePut = Type.Partial(
  Type.Object({
    name: Type.String(),
    type: certificateTypeSchema,
    restricted: Type.Boolean(),
    projects: NStringList,
    certificate: Type.String(),
  }),
  STRICT,
);
export type CertificatePut = Static<typeof CertificatePut>;

/**
 * `POST /1.0/certificates`. `certificate` is base64 DER (none: the caller's TLS certificate);
 * `token: true` asks for a trust token; an untrusted caller presents a token as `password`
 * (lxc 5.0) or `trust_token` (newer clients). `type: ""` means client.
 */
export const CertificatesPost = Type.Partial(
  Type.Object({
    name: Type.String(),
    type: Type.Union([certificateTypeSchema, Type.Literal('')]),
    restricted: Type.Boolean(),
    projects: NStringList,
    certificate: Type.String(),
    password: Type.String(),
    trust_token: Type.String(),
    token: Type.Boolean(),
  }),
  STRICT,
);
export type CertificatesPost = Static<typeof CertificatesPost>;

/**
 * A trust token as lxc decodes it (`CertificateAddToken`): base64 (standard, padded) of this JSON.
 * `expires_at` is Go's zero time when the token never expires.
 */
export const CertificateAddToken = Type.Object({
  client_name: Type.String(),
  fingerprint: Type.String(),
  addresses: StringList,
  secret: Type.String(),
  expires_at: Timestamp,
});
export type CertificateAddToken = Static<typeof CertificateAddToken>;
