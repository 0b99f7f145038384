/**
 * StateTrustStore: the API's TrustStore over the replicated `certificates` table. Reads use this
 * member's applied state (a stale view: an in-memory B+ tree, no Raft round trip), as LXD serves
 * its trust cache from memory; writes go through Raft in one transaction each.
 */
import { ErrorCode, ShoalError } from '../../shared/index.js';
import { certificates, type CertificateRecord, type StateStore } from '../../state/index.js';
import type { TrustedCertificate, TrustStore } from '../ports.js';

function toTrusted(r: CertificateRecord): TrustedCertificate {
  return { fingerprint: r.fingerprint, type: r.type, name: r.name, certificate: r.certificate, restricted: r.restricted, projects: [...r.projects] };
}

function toRecord(c: TrustedCertificate): CertificateRecord {
  return { fingerprint: c.fingerprint, type: c.type, name: c.name, certificate: c.certificate, restricted: c.restricted, projects: [...c.projects] };
}

/** See the module comment. Safe for concurrent use. */
export class StateTrustStore implements TrustStore {
  constructor(private readonly store: StateStore) {}

  async get(fingerprint: string): Promise<TrustedCertificate | undefined> {
    if (!/^[0-9a-f]{64}$/.test(fingerprint)) return undefined;
    const view = await this.store.view({ stale: true });
    const s = view.get(certificates, fingerprint);
    return s ? toTrusted(s.record) : undefined;
  }

  async list(): Promise<readonly TrustedCertificate[]> {
    const view = await this.store.view({ stale: true });
    return view.list(certificates).map((s) => toTrusted(s.record));
  }

  async add(cert: TrustedCertificate): Promise<void> {
    await this.store.update((tx) => {
      if (tx.get(certificates, cert.fingerprint)) throw new ShoalError(ErrorCode.AlreadyExists, 'Certificate already in trust store');
      tx.create(certificates, toRecord(cert));
    });
  }

  async update(fingerprint: string, mutate: (current: TrustedCertificate) => TrustedCertificate): Promise<TrustedCertificate> {
    const { result } = await this.store.update((tx) => {
      const cur = tx.get(certificates, fingerprint);
      if (!cur) throw new ShoalError(ErrorCode.NotFound, 'Certificate not found');
      const next = mutate(toTrusted(cur.record));
      if (next.fingerprint !== fingerprint) {
        if (tx.get(certificates, next.fingerprint)) throw new ShoalError(ErrorCode.AlreadyExists, 'Certificate already in trust store');
        tx.delete(certificates, fingerprint);
        tx.create(certificates, toRecord(next));
      } else {
        tx.put(certificates, toRecord(next));
      }
      return next;
    });
    return result;
  }

  async remove(fingerprint: string): Promise<void> {
    await this.store.update((tx) => {
      if (!tx.get(certificates, fingerprint)) throw new ShoalError(ErrorCode.NotFound, 'Certificate not found');
      tx.delete(certificates, fingerprint);
    });
  }
}
