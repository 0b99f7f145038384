/**
 * `shoal cluster`: members (list, show, remove, evacuate, restore) and join tokens (add,
 * list-tokens, revoke-token). As lxc does, the join token is built client-side from the
 * metadata of the token operation `POST /1.0/cluster/members` returns.
 */
import { ErrorCode, ShoalError } from '../../shared/errors.js';
import type { ClusterJoinTokenMetadata, ClusterMember, ClusterMemberJoinToken, Operation, OperationsByStatus } from '../../api/types/index.js';
import type { CliContext } from '../context.js';
import { renderListing, type ListFormat } from '../format/table.js';

const memberPath = (name: string): string => {
  if (name === '') throw new ShoalError(ErrorCode.InvalidArgument, 'Missing cluster member name');
  return `/1.0/cluster/members/${encodeURIComponent(name)}`;
};

/** `cluster list`: NAME URL ROLES ARCHITECTURE FAILURE DOMAIN DESCRIPTION STATE MESSAGE (lxc 5.0's columns). */
export async function clusterList(ctx: CliContext, remoteArg: string | undefined, opts: { format: ListFormat }): Promise<void> {
  const ref = await ctx.resolve(remoteArg ?? '');
  const members = await ref.client.get<ClusterMember[]>('/1.0/cluster/members', { recursion: 1 });
  const sorted = [...members].sort((a, b) => a.server_name.localeCompare(b.server_name));
  const headers = ['NAME', 'URL', 'ROLES', 'ARCHITECTURE', 'FAILURE DOMAIN', 'DESCRIPTION', 'STATE', 'MESSAGE'];
  const rows = sorted.map((m) => [m.server_name, m.url, m.roles.join('\n'), m.architecture, m.failure_domain, m.description, m.status.toUpperCase(), m.message]);
  ctx.out(await renderListing({ headers, rows, objects: sorted }, opts.format));
}

/** `cluster show NAME` (YAML). */
export async function clusterShow(ctx: CliContext, arg: string): Promise<void> {
  const ref = await ctx.resolve(arg);
  ctx.out((await import('yaml')).stringify(await ref.client.get<ClusterMember>(memberPath(ref.name))));
}

/** Builds the join token from a token operation's metadata (lxc `ToClusterJoinToken`). */
export function joinTokenOf(op: Operation): string | undefined {
  const md = (op.metadata ?? {}) as Partial<ClusterJoinTokenMetadata>;
  if (!md.serverName || !md.secret || !md.fingerprint || !Array.isArray(md.addresses) || !md.expiresAt) return undefined;
  const token: ClusterMemberJoinToken = {
    server_name: md.serverName,
    fingerprint: md.fingerprint,
    addresses: md.addresses,
    secret: md.secret,
    expires_at: md.expiresAt,
  };
  return Buffer.from(JSON.stringify(token), 'utf8').toString('base64');
}

/** `cluster add NAME`: prints the join token. */
export async function clusterAdd(ctx: CliContext, arg: string): Promise<void> {
  const ref = await ctx.resolve(arg);
  if (ref.name === '') throw new ShoalError(ErrorCode.InvalidArgument, 'Missing cluster member name');
  const op = await ref.client.start('POST', '/1.0/cluster/members', { server_name: ref.name });
  const token = joinTokenOf(op);
  if (!token) throw new ShoalError(ErrorCode.Internal, 'The server returned an incomplete join token');
  if (ctx.globals.quiet) ctx.out(`${token}\n`);
  else ctx.out(`Member ${ref.name} join token:\n${token}\n`);
}

async function tokenOperations(ctx: CliContext, remoteArg: string | undefined): Promise<{ op: Operation; token: string; client: Awaited<ReturnType<CliContext['client']>> }[]> {
  const ref = await ctx.resolve(remoteArg ?? '');
  const byStatus = await ref.client.get<OperationsByStatus>('/1.0/operations', { recursion: 1 });
  const out = [];
  for (const op of byStatus['running'] ?? []) {
    if (op.class !== 'token' || op.status_code !== 103) continue;
    const token = joinTokenOf(op);
    if (token) out.push({ op, token, client: ref.client });
  }
  return out;
}

/** `cluster list-tokens`: NAME TOKEN EXPIRES AT. */
export async function clusterListTokens(ctx: CliContext, remoteArg: string | undefined, opts: { format: ListFormat }): Promise<void> {
  const tokens = (await tokenOperations(ctx, remoteArg)).sort((a, b) => String(a.op.metadata?.['serverName']).localeCompare(String(b.op.metadata?.['serverName'])));
  const rows = tokens.map(({ op, token }) => [String(op.metadata?.['serverName'] ?? ''), token, String(op.metadata?.['expiresAt'] ?? '')]);
  const objects = tokens.map(({ op, token }) => ({ server_name: op.metadata?.['serverName'], token, expires_at: op.metadata?.['expiresAt'] }));
  ctx.out(await renderListing({ headers: ['NAME', 'TOKEN', 'EXPIRES AT'], rows, objects }, opts.format));
}

/** `cluster revoke-token NAME`: cancels the member's token operation. */
export async function clusterRevokeToken(ctx: CliContext, arg: string): Promise<void> {
  const ref = await ctx.resolve(arg);
  const tokens = await tokenOperations(ctx, `${ref.remote}:`);
  const match = tokens.find((t) => t.op.metadata?.['serverName'] === ref.name);
  if (!match) throw new ShoalError(ErrorCode.NotFound, `No cluster join token for member "${ref.name}" on remote "${ref.remote}"`);
  await match.client.send('DELETE', `/1.0/operations/${encodeURIComponent(match.op.id)}`);
  ctx.say(`Cluster join token for ${ref.remote}:${ref.name} deleted`);
}

/** `cluster remove NAME [--force]`. */
export async function clusterRemove(ctx: CliContext, arg: string, opts: { force?: boolean | undefined }): Promise<void> {
  const ref = await ctx.resolve(arg);
  await ref.client.send('DELETE', memberPath(ref.name), undefined, { query: { force: opts.force ? 1 : undefined } });
  ctx.say(`Member ${ref.name} removed`);
}

/** `cluster evacuate|restore NAME [--action MODE]`. */
export async function clusterState(ctx: CliContext, arg: string, action: 'evacuate' | 'restore', mode: string | undefined): Promise<void> {
  const ref = await ctx.resolve(arg);
  await ref.client.send('POST', `${memberPath(ref.name)}/state`, { action, ...(mode ? { mode } : {}) });
  ctx.say(`Member ${ref.name} ${action === 'evacuate' ? 'evacuated' : 'restored'}`);
}

/** `cluster set|unset NAME KEY [VALUE]`: member config. */
export async function clusterSet(ctx: CliContext, arg: string, key: string, value: string | null): Promise<void> {
  const ref = await ctx.resolve(arg);
  const path = memberPath(ref.name);
  const { metadata, etag } = await ref.client.getWithEtag<ClusterMember>(path);
  const config = { ...metadata.config };
  if (value === null) delete config[key];
  else config[key] = value;
  await ref.client.send('PUT', path, { roles: metadata.roles, failure_domain: metadata.failure_domain, description: metadata.description, groups: metadata.groups, config }, { etag });
}
