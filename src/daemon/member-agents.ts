/**
 * One mutual-TLS AgentClient per member, addressed by the member's cluster address as Raft knows
 * it (`name@host:port`; the certificate is checked against the name). The daemon's
 * implementation of the API's MemberAgents port and of the cluster's MemberProbe.
 */
import { AgentClient, type AgentTls } from '../node-agent/index.js';
import type { MemberProbe, MemberResources } from '../cluster/index.js';
import type { RaftNode } from '../raft/index.js';
import { errors } from '../shared/index.js';
import type { KvApplyResult } from '../state/index.js';

export class MemberAgents implements MemberProbe {
  private readonly clients = new Map<string, { address: string; client: AgentClient }>();

  constructor(
    private readonly raft: RaftNode<KvApplyResult>,
    private readonly tls: AgentTls,
  ) {}

  /** The agent client of `member`. NOT_FOUND when Raft knows no such member. */
  client(member: string): AgentClient {
    let address: string | undefined;
    for (const book of this.raft.status().members.values()) {
      const at = book.indexOf('@');
      if (at > 0 && book.slice(0, at) === member) address = book.slice(at + 1);
    }
    if (!address) throw errors.notFound(`Member "${member}" not found`);
    const cur = this.clients.get(member);
    if (cur && cur.address === address) return cur.client;
    void cur?.client.close();
    const client = new AgentClient(address, this.tls, member);
    this.clients.set(member, { address, client });
    return client;
  }

  async resources(member: string, signal: AbortSignal): Promise<MemberResources> {
    const r = await this.client(member).unary('getResources', {}, { signal });
    const pools: Record<string, number> = {};
    // Pool SIZE: the scheduler subtracts what placed root disks reserve (src/state/snapshot.ts).
    for (const p of r.pools) pools[p.name] = p.totalBytes;
    return { cpu: r.cpuCount, memoryBytes: r.memoryTotalBytes, pools };
  }

  async close(): Promise<void> {
    for (const c of this.clients.values()) await c.client.close();
    this.clients.clear();
  }
}
