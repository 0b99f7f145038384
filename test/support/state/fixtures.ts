// Test fixtures for the state store: a StateStore over a real LevelKvStateMachine in a temp dir
// with FakeStateRaft, and record builders with LXD-like defaults (anInstance, aMember, ...).
import { ClassicLevel } from 'classic-level';
import {
  advertiseMember,
  LevelKvStateMachine,
  StateStore,
  type CertificateRecord,
  type ImageRecord,
  type InstanceRecord,
  type MemberAdvertisement,
  type ProfileRecord,
} from '../../../src/state/index.js';
import { FakeStateRaft } from '../fakes/fake-state-raft.js';
import { makeTempDir } from '../tmpdir.js';

export const T0 = '2026-11-23T10:00:00Z';

export interface TestStore {
  readonly store: StateStore;
  readonly sm: LevelKvStateMachine;
  readonly raft: FakeStateRaft;
  /** Another store over the same state (another member's code), e.g. with an older schemaMax. */
  peer(schemaMax?: number): StateStore;
  close(): Promise<void>;
}

/** Opens a fresh store; call close() in afterEach. */
export async function openTestStore(opts: { schemaMax?: number } = {}): Promise<TestStore> {
  const dir = await makeTempDir('state');
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir.path);
  await db.open();
  const sm = await LevelKvStateMachine.open(db);
  const raft = new FakeStateRaft(sm);
  const store = new StateStore({ sm, raft, ...(opts.schemaMax ? { schemaMax: opts.schemaMax } : {}) });
  return {
    store,
    sm,
    raft,
    peer: (schemaMax) => new StateStore({ sm, raft, ...(schemaMax ? { schemaMax } : {}) }),
    close: async () => {
      await sm.flush();
      await db.close();
      await dir.remove();
    },
  };
}

export const ad = (name: string, over: Partial<MemberAdvertisement> = {}): MemberAdvertisement => ({
  server_name: name,
  raft_id: Number(name.replace(/\D/g, '')) || 1,
  url: `https://127.0.0.1:${8440 + (Number(name.replace(/\D/g, '')) || 0)}`,
  architecture: 'x86_64',
  schema_max: 2,
  resources: { cpu: 8, memory_bytes: 16 * 2 ** 30, storage_pools: { default: 100 * 2 ** 30 } },
  last_heartbeat: T0,
  ...over,
});

/** Members m1..mN advertised (which also creates the default project, profile, group, config). */
export async function withMembers(store: StateStore, n = 3): Promise<void> {
  for (let i = 1; i <= n; i++) await store.update((tx) => advertiseMember(tx, ad(`m${i}`)));
}

export const anInstance = (over: Partial<InstanceRecord> = {}): InstanceRecord => ({
  name: 'web1',
  project: 'default',
  type: 'container',
  architecture: 'x86_64',
  description: '',
  config: {},
  devices: {},
  profiles: ['default'],
  ephemeral: false,
  stateful: false,
  location: 'm1',
  status: 'Creating',
  created_at: T0,
  last_used_at: null,
  ...over,
});

export const aProfile = (over: Partial<ProfileRecord> = {}): ProfileRecord => ({
  name: 'small',
  project: 'default',
  description: '',
  config: { 'limits.cpu': '1' },
  devices: {},
  ...over,
});

export const FP = 'a'.repeat(64);

export const anImage = (over: Partial<ImageRecord> = {}): ImageRecord => ({
  fingerprint: FP,
  project: 'default',
  filename: 'busybox.tar.xz',
  size: 1024,
  architecture: 'x86_64',
  type: 'container',
  public: false,
  auto_update: false,
  cached: false,
  properties: { os: 'busybox' },
  profiles: ['default'],
  created_at: T0,
  uploaded_at: T0,
  last_used_at: null,
  expires_at: null,
  ...over,
});

export const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

export const aCertificate = (over: Partial<CertificateRecord> = {}): CertificateRecord => ({
  fingerprint: 'c'.repeat(64),
  type: 'client',
  name: 'alice',
  certificate: PEM,
  restricted: false,
  projects: [],
  ...over,
});
