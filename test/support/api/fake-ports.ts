// Fake implementations of the API's ports (src/api/ports.ts) for unit tests, plus a
// FakeAuthenticator that takes the caller's identity from the test. Each keeps the port's
// contract (codes, atomic take, copies in and out) so route tests exercise real behaviour.
import type { IncomingMessage } from 'node:http';
import { ErrorCode, ShoalError } from '../../../src/shared/index.js';
import type { Authenticator, Identity } from '../../../src/api/auth.js';
import type {
  LeaderState,
  Leadership,
  MemberAddress,
  MemberDirectory,
  OperationRecord,
  OperationStore,
  PendingTrustToken,
  ServerConfig,
  ServerInfo,
  TrustStore,
  TrustTokenStore,
  TrustedCertificate,
} from '../../../src/api/ports.js';
import type { ServerEnvironment } from '../../../src/api/types/index.js';

/** The environment FakeServerInfo reports (override fields per test). */
export function anEnvironment(overrides: Partial<ServerEnvironment> = {}): ServerEnvironment {
  return {
    addresses: ['127.0.0.1:8443'],
    architectures: ['x86_64'],
    certificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    certificate_fingerprint: 'a'.repeat(64),
    driver: 'lxc',
    driver_version: '5.0.2',
    firewall: 'nftables',
    kernel: 'Linux',
    kernel_architecture: 'x86_64',
    kernel_features: {},
    kernel_version: '6.1.0',
    lxc_features: {},
    os_name: 'Debian GNU/Linux',
    os_version: '12',
    project: 'default',
    server: 'shoal',
    server_clustered: true,
    server_event_mode: 'full-mesh',
    server_name: 'm1',
    server_pid: 4242,
    server_version: '0.1.0',
    storage: 'dir',
    storage_version: '1',
    storage_supported_drivers: [{ Name: 'dir', Version: '1', Remote: false }],
    ...overrides,
  };
}

export class FakeServerInfo implements ServerInfo {
  name = 'm1';
  env: ServerEnvironment = anEnvironment();
  memberName(): string {
    return this.name;
  }
  environment(project: string): ServerEnvironment {
    return { ...this.env, server_name: this.name, project };
  }
}

/** Accepts keys under core., cluster., images., user.; anything else is INVALID_ARGUMENT. */
export class FakeServerConfig implements ServerConfig {
  config: Record<string, string> = {};
  /** When set, get() throws it (to exercise error paths). */
  failWith: unknown;

  get(): Promise<Readonly<Record<string, string>>> {
    if (this.failWith !== undefined) return Promise.reject(this.failWith);
    return Promise.resolve({ ...this.config });
  }

  update(
    changes: Readonly<Record<string, string>>,
    mode: 'replace' | 'merge',
    check?: (current: Readonly<Record<string, string>>) => void,
  ): Promise<void> {
    try {
      check?.({ ...this.config });
      for (const k of Object.keys(changes)) {
        if (!/^(core|cluster|images|user)\.[a-z0-9_.-]+$/.test(k)) throw new ShoalError(ErrorCode.InvalidArgument, `Unknown configuration key "${k}"`);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    const next = mode === 'replace' ? {} : { ...this.config };
    for (const [k, v] of Object.entries(changes)) {
      if (v === '') delete next[k];
      else next[k] = v;
    }
    this.config = next;
    return Promise.resolve();
  }
}

export class FakeTrustStore implements TrustStore {
  readonly certs = new Map<string, TrustedCertificate>();
  gets = 0;

  get(fingerprint: string): Promise<TrustedCertificate | undefined> {
    this.gets++;
    const c = this.certs.get(fingerprint);
    return Promise.resolve(c ? structuredClone(c) : undefined);
  }
  list(): Promise<readonly TrustedCertificate[]> {
    return Promise.resolve([...this.certs.values()].sort((a, b) => a.fingerprint.localeCompare(b.fingerprint)).map((c) => structuredClone(c)));
  }
  add(cert: TrustedCertificate): Promise<void> {
    if (this.certs.has(cert.fingerprint)) return Promise.reject(new ShoalError(ErrorCode.AlreadyExists, 'Certificate already in trust store'));
    this.certs.set(cert.fingerprint, structuredClone(cert));
    return Promise.resolve();
  }
  update(fingerprint: string, mutate: (current: TrustedCertificate) => TrustedCertificate): Promise<TrustedCertificate> {
    const current = this.certs.get(fingerprint);
    if (!current) return Promise.reject(new ShoalError(ErrorCode.NotFound, 'Certificate not found'));
    let next: TrustedCertificate;
    try {
      next = mutate(structuredClone(current));
    } catch (err) {
      return Promise.reject(err);
    }
    if (next.fingerprint !== fingerprint && this.certs.has(next.fingerprint)) {
      return Promise.reject(new ShoalError(ErrorCode.AlreadyExists, 'Certificate already in trust store'));
    }
    this.certs.delete(fingerprint);
    this.certs.set(next.fingerprint, structuredClone(next));
    return Promise.resolve(structuredClone(next));
  }
  remove(fingerprint: string): Promise<void> {
    if (!this.certs.delete(fingerprint)) return Promise.reject(new ShoalError(ErrorCode.NotFound, 'Certificate not found'));
    return Promise.resolve();
  }
}

export class FakeTrustTokenStore implements TrustTokenStore {
  readonly tokens = new Map<string, PendingTrustToken>();

  add(token: PendingTrustToken): Promise<void> {
    this.tokens.set(token.operationId, { ...token });
    return Promise.resolve();
  }
  take(secretHash: string): Promise<PendingTrustToken | undefined> {
    for (const [id, t] of this.tokens) {
      if (t.secretHash === secretHash) {
        this.tokens.delete(id);
        return Promise.resolve({ ...t });
      }
    }
    return Promise.resolve(undefined);
  }
  remove(operationId: string): Promise<void> {
    this.tokens.delete(operationId);
    return Promise.resolve();
  }
  list(): Promise<readonly PendingTrustToken[]> {
    return Promise.resolve([...this.tokens.values()].map((t) => ({ ...t })));
  }
}

export class FakeLeadership implements Leadership {
  current: LeaderState = { role: 'leader' };
  state(): LeaderState {
    return this.current;
  }
}

export class FakeMemberDirectory implements MemberDirectory {
  readonly members = new Map<string, MemberAddress>();
  lookup(name: string): MemberAddress | undefined {
    return this.members.get(name);
  }
}

/** Records every write, and can be told to fail. */
export class FakeOperationStore implements OperationStore {
  readonly records = new Map<string, OperationRecord>();
  readonly writes: Array<{ kind: 'put' | 'delete'; id: string; statusCode?: number }> = [];
  failPuts = false;

  put(record: OperationRecord): Promise<void> {
    if (this.failPuts) return Promise.reject(new ShoalError(ErrorCode.Unavailable, 'Database unavailable'));
    this.writes.push({ kind: 'put', id: record.id, statusCode: record.statusCode });
    this.records.set(record.id, structuredClone(record));
    return Promise.resolve();
  }
  delete(id: string): Promise<void> {
    this.writes.push({ kind: 'delete', id });
    this.records.delete(id);
    return Promise.resolve();
  }
  list(): Promise<readonly OperationRecord[]> {
    return Promise.resolve([...this.records.values()].map((r) => structuredClone(r)));
  }
}

/** Identities tests use. */
export const identities = {
  unix: (): Identity => ({
    trusted: true,
    protocol: 'unix',
    username: 'root',
    address: '@',
    fingerprint: undefined,
    certificate: undefined,
    certificateType: undefined,
    restricted: false,
    projects: [],
    forwardedBy: undefined,
  }),
  untrusted: (certificate?: string, fingerprint?: string): Identity => ({
    trusted: false,
    protocol: 'tls',
    username: fingerprint ?? '',
    address: '192.0.2.7:50000',
    fingerprint,
    certificate,
    certificateType: undefined,
    restricted: false,
    projects: [],
    forwardedBy: undefined,
  }),
  restricted: (projects: string[], fingerprint = 'b'.repeat(64), certificate?: string): Identity => ({
    trusted: true,
    protocol: 'tls',
    username: fingerprint,
    address: '192.0.2.8:50000',
    fingerprint,
    certificate,
    certificateType: 'client',
    restricted: true,
    projects,
    forwardedBy: undefined,
  }),
};

/** Header a test sets to choose the caller: a key of {@link FakeAuthenticator.known} or JSON of an Identity. */
export const FAKE_IDENTITY_HEADER = 'x-test-identity';

/** Reads the identity from {@link FAKE_IDENTITY_HEADER}; default: the unix (full trust) identity. */
export class FakeAuthenticator implements Authenticator {
  readonly known = new Map<string, Identity>([
    ['unix', identities.unix()],
    ['untrusted', identities.untrusted()],
  ]);

  authenticate(raw: IncomingMessage): Promise<Identity> {
    const h = raw.headers[FAKE_IDENTITY_HEADER];
    if (typeof h !== 'string') return Promise.resolve(identities.unix());
    const named = this.known.get(h);
    return Promise.resolve(named ?? (JSON.parse(h) as Identity));
  }
}
