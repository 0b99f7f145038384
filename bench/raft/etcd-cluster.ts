/**
 * A 3-member etcd 3.4 cluster (Debian `etcd-server`) on loopback for the benchmark: peer AND client
 * mutual TLS with certificates from the test CA, etcd's defaults for everything that matters here
 * (fsync on, heartbeat 100 ms, election 1000 ms, snapshot count). Members are killed by PID.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from '../../test/support/free-port.js';
import { createTestPki, type TestPki } from '../../test/support/pki.js';
import { ManagedProcess } from '../../test/support/processes.js';

/** Installs etcd-server with apt-get when `etcd` is missing (idempotent). Returns `etcd --version`'s first line. */
export function ensureEtcd(): string {
  const have = (): boolean => {
    try {
      execFileSync('sh', ['-c', 'command -v etcd'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (!have()) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'etcd-server'], { stdio: 'ignore', env });
  }
  return execFileSync('etcd', ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? 'etcd';
}

interface Member {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  proc?: ManagedProcess;
}

/** PEM files of one identity. */
interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

export class EtcdCluster {
  private constructor(
    private readonly dir: string,
    private readonly pki: TestPki,
    private readonly members: Member[],
    /** The CA file and the client certificate of the load generator. */
    readonly caFile: string,
    readonly clientTls: CertFiles,
    private readonly certs: ReadonlyMap<string, CertFiles>,
  ) {}

  /** Allocates ports and makes a test CA with certificates e1..eN (SAN DNS:eN, IP:127.0.0.1) and "client". */
  static async create(dir: string, size = 3): Promise<EtcdCluster> {
    const ports = await freePorts(2 * size);
    const members = Array.from({ length: size }, (_, i) => ({ name: `e${i + 1}`, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]! }));
    mkdirSync(join(dir, 'pki'), { recursive: true });
    const pki = await createTestPki('etcd-bench-ca');
    const caFile = join(dir, 'pki', 'ca.crt');
    writeFileSync(caFile, pki.caPem);
    const certs = new Map<string, CertFiles>();
    for (const name of [...members.map((m) => m.name), 'client']) {
      const t = await pki.issue(name);
      const files = { cert: join(dir, 'pki', `${name}.crt`), key: join(dir, 'pki', `${name}.key`) };
      writeFileSync(files.cert, t.certPem);
      writeFileSync(files.key, t.keyPem, { mode: 0o600 });
      certs.set(name, files);
    }
    return new EtcdCluster(dir, pki, members, caFile, certs.get('client')!, certs);
  }

  /** Client endpoints (`127.0.0.1:port`) and the TLS name each member's certificate carries. */
  get endpoints(): { address: string; serverName: string }[] {
    return this.members.map((m) => ({ address: `127.0.0.1:${m.clientPort}`, serverName: m.name }));
  }

  pid(i: number): number | undefined {
    return this.members[i]?.proc?.pid;
  }

  startAll(): void {
    for (let i = 0; i < this.members.length; i++) this.start(i);
  }

  /** Starts member i (a restart reuses its data dir and joins the existing cluster). */
  start(i: number): void {
    const m = this.members[i]!;
    const leaf = this.certs.get(m.name)!;
    const dataDir = join(this.dir, m.name);
    const fresh = !existsSync(dataDir);
    const cluster = this.members.map((x) => `${x.name}=https://127.0.0.1:${x.peerPort}`).join(',');
    const args = [
      '--name', m.name,
      '--data-dir', dataDir,
      '--listen-client-urls', `https://127.0.0.1:${m.clientPort}`,
      '--advertise-client-urls', `https://127.0.0.1:${m.clientPort}`,
      '--listen-peer-urls', `https://127.0.0.1:${m.peerPort}`,
      '--initial-advertise-peer-urls', `https://127.0.0.1:${m.peerPort}`,
      '--initial-cluster', cluster,
      '--initial-cluster-state', fresh ? 'new' : 'existing',
      '--initial-cluster-token', 'shoal-bench',
      '--cert-file', leaf.cert, '--key-file', leaf.key, '--trusted-ca-file', this.caFile, '--client-cert-auth',
      '--peer-cert-file', leaf.cert, '--peer-key-file', leaf.key, '--peer-trusted-ca-file', this.caFile, '--peer-client-cert-auth',
      '--logger', 'zap', '--log-outputs', 'stderr', '--log-level', 'warn',
    ];
    m.proc = ManagedProcess.spawn(m.name, 'etcd', args, { logFile: join(this.dir, `${m.name}.log`) });
  }

  /** kill -9 member i by PID and wait for it to exit. */
  async kill(i: number): Promise<void> {
    await this.members[i]?.proc?.kill('SIGKILL');
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.members.map((m) => m.proc?.kill('SIGKILL')));
  }

  /** Kills every member and removes the data dirs and the PKI. */
  async destroy(): Promise<void> {
    await this.stopAll();
    await this.pki.remove();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
