/**
 * The trust store (LXD Certificate). This table has two record formats, the schema change that
 * demonstrates rolling upgrades (schema/versions.ts):
 * - v1: `{fingerprint, type, name, certificate}`: every trusted client sees every project;
 * - v2 adds `restricted` and `projects` (LXD's `certificate_project` API extension).
 * While the cluster is at schema 1 (some member only knows v1), certificates are written as v1 and
 * a restricted certificate is refused (FAILED_PRECONDITION): the feature is gated until the
 * upgrade. Reading a v1 record gives `restricted: false, projects: []`.
 */
import { ErrorCode, ShoalError } from '../../shared/index.js';
import { defineTable } from './define.js';
import { arr, bool, name, obj, oneOf, SHA256, str, type Check } from './fields.js';
import { sameShape, type RecordFormat } from './table.js';

export interface CertificateRecord {
  readonly fingerprint: string;
  readonly type: 'client' | 'server' | 'metrics';
  readonly name: string;
  /** PEM. */
  readonly certificate: string;
  readonly restricted: boolean;
  /** Projects a restricted certificate may use. */
  readonly projects: readonly string[];
}

type CertificateV1 = Omit<CertificateRecord, 'restricted' | 'projects'>;

const v1Fields = {
  fingerprint: str({ pattern: SHA256, what: 'a SHA-256 fingerprint' }),
  type: oneOf('client', 'server', 'metrics'),
  name: str({ max: 255 }),
  certificate: str({ pattern: /^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/, what: 'a PEM certificate' }),
} as const;

const checkV1: Check<CertificateV1> = obj<CertificateV1>(v1Fields);
const checkV2: Check<CertificateRecord> = obj<CertificateRecord>({ ...v1Fields, restricted: bool, projects: arr(name, { unique: true }) });

const formatV1: RecordFormat<CertificateRecord> = {
  version: 1,
  decode: (stored) => ({ ...checkV1(stored, ''), restricted: false, projects: [] }),
  encode: (r) => {
    if (r.restricted || r.projects.length > 0) {
      throw new ShoalError(
        ErrorCode.FailedPrecondition,
        `Certificate "${r.name}" cannot be restricted to projects yet: the cluster is at schema 1 until every member supports schema 2`,
        { retryable: false },
      );
    }
    const { restricted: _r, projects: _p, ...v1 } = r;
    return v1;
  },
};

export const certificates = defineTable<CertificateRecord, [string]>({
  name: 'certificates',
  noun: 'Certificate',
  arity: 1,
  keyOf: (r) => [r.fingerprint],
  describe: ([f]) => `Certificate "${f}"`,
  check: checkV2,
  formats: [formatV1, sameShape(2, checkV2)],
  validate: (r) => {
    if (!r.restricted && r.projects.length > 0) throw new ShoalError(ErrorCode.InvalidArgument, `Invalid certificate "${r.name}": projects are only allowed on a restricted certificate`);
  },
});
