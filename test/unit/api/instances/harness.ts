// The instance routes over a REAL one-member cluster database (test/support/api/db-app.ts) and a
// real AgentService over the Fake* drivers (test/support/fake-agent.ts) served on loopback with
// mutual TLS and reached through the real AgentClient: what the routes see is the agent's gRPC
// contract, ledger and errors. Member `m1` has pool `default` (10 GiB) and the default profile a
// root disk and eth0; image FAKE_FP is recorded with alias `busybox`.
import { AgentClient } from '../../../../src/node-agent/client.js';
import { startAgentServer, type AgentServer } from '../../../../src/node-agent/server.js';
import { errors, silentLogger } from '../../../../src/shared/index.js';
import { imageAliases, imageMembers, images, members, profiles, storagePoolMembers, storagePools } from '../../../../src/state/index.js';
import type { MemberAgents } from '../../../../src/api/ports.js';
import { dbApp, type DbApp } from '../../../support/api/db-app.js';
import { FAKE_FP, openFakeAgent, type FakeAgent } from '../../../support/fake-agent.js';
import { createTestPki, type TestPki } from '../../../support/pki.js';

export { FAKE_FP };

export interface InstanceHarness {
  readonly t: DbApp;
  readonly agent: FakeAgent;
  /** How many times the routes asked for an agent client (every agent call does). */
  agentLookups(): number;
  /** Runs an async request and waits for its operation; returns the final operation. */
  run(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown): Promise<{ status: number; op: Record<string, unknown>; body: Record<string, unknown> }>;
  /** `GET url` → metadata. */
  get(url: string): Promise<unknown>;
  close(): Promise<void>;
}

let pkiP: Promise<TestPki> | undefined;

/** Opens the harness; call `close()` in an after hook. */
export async function openInstanceHarness(): Promise<InstanceHarness> {
  pkiP ??= createTestPki('shoal-ai-unit-ca');
  const pki = await pkiP;
  const agent = await openFakeAgent();
  let server: AgentServer | undefined;
  let client: AgentClient | undefined;
  let t: DbApp | undefined;
  let lookups = 0;
  const close = async (): Promise<void> => {
    await t?.close();
    await client?.close();
    await server?.close(100);
    await agent.close();
  };
  try {
    server = await startAgentServer(agent.service, '127.0.0.1:0', await pki.issue('agent'), silentLogger());
    client = new AgentClient(`127.0.0.1:${server.port}`, await pki.issue('leader'), 'agent');
    const c = client;
    const agents: MemberAgents = {
      client: (m) => {
        lookups++;
        if (m !== 'm1') throw errors.notFound(`Member "${m}" not found`);
        return c;
      },
    };
    t = await dbApp({ agents });
    const now = new Date().toISOString();
    await t.db.store.update((tx) => {
      const m = tx.require(members, 'm1').record;
      tx.put(members, { ...m, resources: { ...m.resources, storage_pools: { default: 10 * 2 ** 30 } } });
      tx.create(storagePools, { name: 'default', driver: 'dir', description: '', config: {}, status: 'Created' });
      tx.create(storagePoolMembers, { pool: 'default', member: 'm1', config: {}, state: 'Created' });
      const p = tx.require(profiles, 'default', 'default').record;
      tx.put(profiles, { ...p, devices: { root: { type: 'disk', path: '/', pool: 'default' }, eth0: { type: 'nic', name: 'eth0', network: 'net0' } } });
      tx.create(images, {
        fingerprint: FAKE_FP,
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
        created_at: now,
        uploaded_at: now,
        last_used_at: null,
        expires_at: null,
      });
      tx.create(imageMembers, { fingerprint: FAKE_FP, member: 'm1', ready: true });
      tx.create(imageAliases, { name: 'busybox', project: 'default', description: '', target: FAKE_FP, type: 'container' });
    });
  } catch (err) {
    await close();
    throw err;
  }
  const app = t;
  return {
    t: app,
    agent,
    agentLookups: () => lookups,
    async run(method, url, payload) {
      const res = await app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
      const body = res.json<Record<string, unknown>>();
      if (res.statusCode !== 202) return { status: res.statusCode, op: {}, body };
      const id = (body['metadata'] as { id: string }).id;
      const waited = await app.inject({ method: 'GET', url: `/1.0/operations/${id}/wait?timeout=30` });
      return { status: 202, op: waited.json<{ metadata: Record<string, unknown> }>().metadata, body };
    },
    async get(url) {
      const res = await app.inject({ method: 'GET', url });
      if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${res.body}`);
      return res.json<{ metadata: unknown }>().metadata;
    },
    close,
  };
}

/** Removes the process-wide test CA (root after hook of the suite files). */
export async function removeHarnessPki(): Promise<void> {
  if (pkiP) await (await pkiP).remove();
  pkiP = undefined;
}
