/**
 * `shoald init --join TOKEN`: the joiner's side. It decodes the token (LXD encoding), refuses an
 * expired one or one issued for another name, makes its own key and a certificate request, and
 * asks a member listed in the token to admit it (`POST /internal/cluster/accept` on the API
 * address, over TLS where the server's chain must contain the CA whose fingerprint the token
 * pins — nothing is sent before that check). The answer carries its certificate signed by the
 * cluster CA, the CA, its Raft id and the Raft members. It then starts as a Raft learner, catches
 * up, and waits until the leader has made it a voter or a standby (member record `Created`).
 * Locally everything is reverted on failure; on the cluster side the leader removes a member
 * whose join never completes (src/cluster/duties.ts).
 */
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import { rm } from 'node:fs/promises';
import type { TLSSocket } from 'node:tls';
import { createCertificateRequest, decodeJoinToken } from '../cluster/index.js';
import { agentPaths } from '../node-agent/types.js';
import { ErrorCode, Reverter, ShoalError, errorMessage, systemClock, type Logger } from '../shared/index.js';
import { members } from '../state/index.js';
import { checkName } from './bootstrap.js';
import type { InitRequest } from './control.js';
import { createClusterResourcesHere } from './join-resources.js';
import { startMember, type Member } from './member.js';
import { ensureStateDir, splitHostPort, writeIdentity, writePem, type MemberIdentity, type ShoalPaths } from './paths.js';

type Join = Extract<InitRequest, { kind: 'join' }>;

/** What the cluster answers to an accepted join (wire shape of /internal/cluster/accept). */
export interface AcceptResponse {
  readonly certificate: string;
  readonly ca_certificate: string;
  /** Given to members that become voters (they may sign certificates for later joiners). */
  readonly ca_key?: string;
  readonly raft_id: number;
  /** Raft members: raft id → `name@host:port`. */
  readonly members: Readonly<Record<string, string>>;
}

export async function joinCluster(paths: ShoalPaths, req: Join, o: { log: Logger; control: Parameters<typeof startMember>[0]['control']; onRemoved?: () => void }): Promise<Member> {
  checkName(req.name);
  splitHostPort(req.address, '--address');
  splitHostPort(req.apiAddress, '--api-address');
  const token = decodeJoinToken(req.token);
  if (token.serverName !== req.name) throw new ShoalError(ErrorCode.InvalidArgument, `The join token is for member "${token.serverName}", not "${req.name}"`);
  if (token.expiresAt <= systemClock.now()) throw new ShoalError(ErrorCode.PermissionDenied, 'The join token has expired');
  const { csrPem, keyPem } = await createCertificateRequest({ commonName: req.name });
  const body = { server_name: req.name, secret: token.secret, csr: csrPem, address: req.address, api_address: req.apiAddress };

  let res: AcceptResponse | undefined;
  let lastErr: unknown;
  for (const addr of token.addresses) {
    try {
      res = await postAccept(addr, token.fingerprint, body);
      break;
    } catch (err) {
      lastErr = err;
      // Only an unreachable member is worth trying the next address; a refusal is final.
      if (!(err instanceof ShoalError && err.code === ErrorCode.Unavailable)) throw err;
      o.log.warn({ err, peer: addr }, 'cluster member unreachable; trying the next address');
    }
  }
  if (!res) throw new ShoalError(ErrorCode.Unavailable, `No cluster member in the join token answered: ${errorMessage(lastErr)}`, { cause: lastErr });

  const r = new Reverter();
  try {
    await ensureStateDir(paths);
    r.add('certificates', () => rm(paths.certs, { recursive: true, force: true }));
    await ensureStateDir(paths);
    await writePem(paths.caCert, res.ca_certificate, false);
    if (res.ca_key) await writePem(paths.caKey, res.ca_key, true);
    await writePem(paths.serverCert, res.certificate, false);
    await writePem(paths.serverKey, keyPem, true);
    const identity: MemberIdentity = { name: req.name, raftId: res.raft_id, address: req.address, apiAddress: req.apiAddress };
    const peers = new Map(Object.entries(res.members).map(([id, book]) => [Number(id), book] as const));
    r.add('database', () => rm(paths.db, { recursive: true, force: true }));
    const ap = agentPaths(paths.dir);
    r.add('agent state', async () => {
      for (const d of [ap.agentDb, ap.images]) await rm(d, { recursive: true, force: true });
    });
    const member = await startMember({ paths, identity, log: o.log, control: o.control, peers, ...(o.onRemoved ? { onRemoved: o.onRemoved } : {}) });
    r.add('member', () => member.stop());
    await waitAdmitted(member, 60_000);
    await member.memberCache.refresh(); // forward to the leader at once, not after the next refresh
    await createClusterResourcesHere(member, r, o.log);
    await writeIdentity(paths, identity);
    r.success();
    o.log.info({ member: req.name, raftId: res.raft_id }, 'joined the cluster');
    return member;
  } finally {
    await r.fail();
  }
}

/** Waits until this member's record (in its own applied state) says Created. */
async function waitAdmitted(member: Member, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const view = await member.store.view({ stale: true });
    if (view.get(members, member.identity.name)?.record.state === 'Created') return;
    if (Date.now() > deadline) throw new ShoalError(ErrorCode.DeadlineExceeded, 'The cluster did not finish admitting this member in time');
    await new Promise((res) => setTimeout(res, 100));
  }
}

/**
 * POSTs the join request to `address` once the server's certificate chain is checked against the
 * pinned CA fingerprint. UNAVAILABLE when the member cannot be reached; PERMISSION_DENIED on a
 * fingerprint mismatch; otherwise the error the cluster answered.
 */
function postAccept(address: string, fingerprint: string, body: unknown): Promise<AcceptResponse> {
  const { host, port } = splitHostPort(address, 'address');
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  return new Promise<AcceptResponse>((resolve, reject) => {
    const request = https.request({
      host,
      port,
      method: 'POST',
      path: '/internal/cluster/accept',
      headers: { 'content-type': 'application/json', 'content-length': payload.length },
      rejectUnauthorized: false, // the pin below replaces the usual chain check
      agent: false, // a fresh TLS connection: the pin is checked on its handshake
      timeout: 30_000,
    });
    request.on('socket', (s) => {
      const sock = s as TLSSocket;
      sock.once('secureConnect', () => {
        const problem = checkPin(sock, fingerprint);
        if (problem === NO_CERTIFICATE) {
          request.destroy(new ShoalError(ErrorCode.Unavailable, `Member ${address} presented no certificate`));
          return;
        }
        if (problem) {
          request.destroy(new ShoalError(ErrorCode.PermissionDenied, `Refusing to join through ${address}: ${problem}`));
          return;
        }
        request.end(payload);
      });
    });
    request.on('timeout', () => request.destroy(new ShoalError(ErrorCode.Unavailable, `Member ${address} did not answer in time`)));
    request.on('error', (err) => reject(err instanceof ShoalError ? err : new ShoalError(ErrorCode.Unavailable, `Cannot reach member ${address}: ${err.message}`, { cause: err })));
    request.on('response', (resp) => {
      const chunks: Buffer[] = [];
      resp.on('data', (c: Buffer) => chunks.push(c));
      resp.on('end', () => {
        let parsed: { metadata?: unknown; error?: string; error_code?: number } | undefined;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof parsed;
        } catch (err) {
          return reject(new ShoalError(ErrorCode.Internal, `Member ${address} answered with invalid JSON`, { cause: err }));
        }
        if (resp.statusCode === 200 && parsed?.metadata) return resolve(parsed.metadata as AcceptResponse);
        reject(new ShoalError(codeOfStatus(resp.statusCode ?? 500), `Join refused: ${parsed?.error ?? `HTTP ${resp.statusCode}`}`));
      });
    });
  });
}

function codeOfStatus(status: number): ErrorCode {
  if (status === 400) return ErrorCode.InvalidArgument;
  if (status === 403) return ErrorCode.PermissionDenied;
  if (status === 404) return ErrorCode.NotFound;
  if (status === 409) return ErrorCode.AlreadyExists;
  if (status === 503) return ErrorCode.Unavailable;
  return ErrorCode.Internal;
}

const NO_CERTIFICATE = 'the server presented no certificate';

/** Why the peer's chain does not contain a CA with `fingerprint` that signed its leaf, or undefined. */
function checkPin(sock: TLSSocket, fingerprint: string): string | undefined {
  const leafInfo = sock.getPeerCertificate(true);
  if (!leafInfo?.raw) return NO_CERTIFICATE;
  const leaf = new X509Certificate(leafInfo.raw);
  const want = fingerprint.toLowerCase();
  const norm = (fp: string): string => fp.replace(/:/g, '').toLowerCase();
  let cur: typeof leafInfo | undefined = leafInfo;
  const seen = new Set<string>();
  while (cur?.raw && !seen.has(cur.fingerprint256)) {
    seen.add(cur.fingerprint256);
    if (norm(cur.fingerprint256) === want) {
      const ca = new X509Certificate(cur.raw);
      if (cur === leafInfo || (leaf.checkIssued(ca) && leaf.verify(ca.publicKey))) return undefined;
      return 'the pinned CA did not sign the server certificate';
    }
    cur = cur.issuerCertificate as typeof leafInfo | undefined;
  }
  return 'certificate fingerprint mismatch';
}
