// The image API over a REAL one-member cluster database (dbApp) and REAL node agents: one
// in-process agent per member (AgentFixture: AgentService + FsImageStore behind mutual-TLS gRPC),
// members m1 (serves the API), m2 and m3 advertised in the database. `down(m)` makes a member
// unreachable (its client throws UNAVAILABLE) until `up(m)`. `cluster.images_minimal_replica`
// is 1 (no eager copies) unless a test changes it. Small test images are built here.
import { createHash, randomBytes } from 'node:crypto';
import type { MemberAgents } from '../../../../src/api/ports.js';
import { writeTar, type TarWriteEntry } from '../../../../src/node-agent/images/tar-writer.js';
import { errors } from '../../../../src/shared/index.js';
import { advertiseMember } from '../../../../src/state/index.js';
import { AgentFixture } from '../../../support/agent-fixture.js';
import { dbApp, type DbApp } from '../../../support/api/db-app.js';

export interface ImagesEnv {
  readonly t: DbApp;
  readonly agents: Record<string, AgentFixture>;
  /** Members whose agents currently refuse calls. */
  readonly downed: Set<string>;
  close(): Promise<void>;
}

/** Starts the agents and the app; `members[0]` serves the API. */
export async function openImagesEnv(members: readonly string[] = ['m1', 'm2', 'm3']): Promise<ImagesEnv> {
  const agents: Record<string, AgentFixture> = {};
  const downed = new Set<string>();
  let t: DbApp | undefined;
  const close = async (): Promise<void> => {
    await t?.close();
    for (const a of Object.values(agents)) await a.close();
  };
  try {
    for (const m of members) agents[m] = await AgentFixture.start();
    const port: MemberAgents = {
      client: (m) => {
        const a = agents[m];
        if (!a) throw errors.notFound(`Member "${m}" not found`);
        if (downed.has(m)) throw errors.unavailable(`Member "${m}" is unreachable`);
        return a.client;
      },
    };
    t = await dbApp({ agents: port });
    for (const [i, m] of members.slice(1).entries()) {
      await t.db.store.update((tx) =>
        advertiseMember(tx, {
          server_name: m,
          raft_id: i + 2,
          url: `https://127.0.0.${i + 2}:8443`,
          architecture: 'x86_64',
          schema_max: t!.db.store.schemaMax,
          resources: { cpu: 2, memory_bytes: 4 * 2 ** 30, storage_pools: {} },
          last_heartbeat: new Date().toISOString(),
        }),
      );
    }
    // Lazy distribution unless a test asks for replicas.
    await t.deps.serverConfig.update({ 'cluster.images_minimal_replica': '1' }, 'merge');
  } catch (err) {
    await close();
    throw err;
  }
  return { t, agents, downed, close };
}

const ARCH = process.arch === 'arm64' ? 'aarch64' : 'x86_64';

function metadataYaml(name: string): string {
  return `architecture: ${ARCH}\ncreation_date: 1704067200\nproperties:\n  os: test\n  name: ${name}\n  description: test image ${name}\n`;
}

function text(path: string, content: string): TarWriteEntry {
  return { type: 'file', path, mode: 0o644, content: Buffer.from(content) };
}

/** A small unified tarball; `name` (and random filler) makes its fingerprint unique. */
export function unifiedImage(name: string): { tarball: Buffer; fingerprint: string } {
  const tarball = writeTar(
    [
      text('metadata.yaml', metadataYaml(name)),
      { type: 'directory', path: 'rootfs', mode: 0o755 },
      text('rootfs/hello', `hello from ${name}\n`),
      { type: 'file', path: 'rootfs/filler', mode: 0o644, content: randomBytes(200_000) },
      { type: 'directory', path: 'templates', mode: 0o755 },
    ],
    1704067200,
  );
  return { tarball, fingerprint: sha256(tarball) };
}

/** A small split image: metadata tarball + rootfs tarball; fingerprint = SHA-256(meta ‖ rootfs). */
export function splitImage(name: string): { meta: Buffer; rootfs: Buffer; fingerprint: string } {
  const meta = writeTar([text('metadata.yaml', metadataYaml(name)), { type: 'directory', path: 'templates', mode: 0o755 }], 1704067200);
  const rootfs = writeTar([text('hello', `hello from ${name}\n`), { type: 'file', path: 'filler', mode: 0o644, content: randomBytes(300_000) }], 1704067200);
  return { meta, rootfs, fingerprint: sha256(Buffer.concat([meta, rootfs])) };
}

/** The multipart body `lxc image import META ROOTFS` sends. */
export function multipartBody(meta: Buffer, rootfs: Buffer, boundary = 'shoal-test-boundary-42'): { body: Buffer; contentType: string } {
  const head = (name: string, file: string): Buffer =>
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${file}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const body = Buffer.concat([head('metadata', 'meta.tar'), meta, Buffer.from('\r\n'), head('rootfs', 'rootfs.tar'), rootfs, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Waits for an operation through the app and returns it. */
export async function waitOp(t: DbApp, operation: string): Promise<{ status: string; err: string; metadata: Record<string, unknown> | null }> {
  const r = await t.inject({ method: 'GET', url: `${operation}/wait?timeout=60` });
  return (r.json() as { metadata: { status: string; err: string; metadata: Record<string, unknown> | null } }).metadata;
}

/** Uploads a unified tarball and waits; returns the finished operation. */
export async function upload(t: DbApp, tarball: Buffer, headers: Record<string, string> = {}, project = 'default') {
  const r = await t.inject({
    method: 'POST',
    url: `/1.0/images${project === 'default' ? '' : `?project=${project}`}`,
    headers: { 'content-type': 'application/octet-stream', ...headers },
    payload: tarball,
  });
  return r;
}
