/**
 * `shoal config trust`: trusted client certificates, as lxc 5.0's `config trust`. `add NAME`
 * asks for a trust token (`POST /1.0/certificates {token: true}`) and builds the token the way
 * lxc does from the token operation's metadata; `shoal remote add NAME TOKEN` consumes it.
 */
import { ErrorCode, ShoalError } from '../../shared/errors.js';
import type { Certificate, CertificateAddToken, Operation } from '../../api/types/index.js';
import type { CliContext } from '../context.js';
import { renderListing, type ListFormat } from '../format/table.js';

/** The trust token of a `certificate add token` operation, or undefined when incomplete. */
export function trustTokenOf(op: Operation): string | undefined {
  const md = op.metadata ?? {};
  const request = (md['request'] ?? {}) as { name?: unknown };
  const { secret, fingerprint, addresses, expiresAt } = md as { secret?: unknown; fingerprint?: unknown; addresses?: unknown; expiresAt?: unknown };
  if (typeof request.name !== 'string' || typeof secret !== 'string' || typeof fingerprint !== 'string' || !Array.isArray(addresses)) return undefined;
  const token: CertificateAddToken = {
    client_name: request.name,
    fingerprint,
    addresses: addresses.filter((a): a is string => typeof a === 'string'),
    secret,
    expires_at: typeof expiresAt === 'string' ? expiresAt : '0001-01-01T00:00:00Z',
  };
  return Buffer.from(JSON.stringify(token), 'utf8').toString('base64');
}

/** `config trust add NAME [--restricted --projects p1,p2]`: prints a trust token. */
export async function trustAdd(ctx: CliContext, arg: string, opts: { projects?: string | undefined; restricted?: boolean | undefined }): Promise<void> {
  const ref = await ctx.resolve(arg);
  if (ref.name === '') throw new ShoalError(ErrorCode.InvalidArgument, 'Missing client name');
  const projects = opts.projects ? opts.projects.split(',').filter((p) => p !== '') : [];
  const op = await ref.client.start('POST', '/1.0/certificates', {
    name: ref.name,
    type: 'client',
    token: true,
    restricted: opts.restricted ?? projects.length > 0,
    projects,
  });
  const token = trustTokenOf(op);
  if (!token) throw new ShoalError(ErrorCode.Internal, 'The server returned an incomplete trust token');
  if (ctx.globals.quiet) ctx.out(`${token}\n`);
  else ctx.out(`Client ${ref.name} certificate add token:\n${token}\n`);
}

/** `config trust list`: TYPE NAME COMMON NAME FINGERPRINT. */
export async function trustList(ctx: CliContext, remoteArg: string | undefined, opts: { format: ListFormat }): Promise<void> {
  const ref = await ctx.resolve(remoteArg ?? '');
  const certs = await ref.client.get<Certificate[]>('/1.0/certificates', { recursion: 1 });
  const sorted = [...certs].sort((a, b) => a.name.localeCompare(b.name));
  const rows = sorted.map((c) => [c.type, c.name, c.fingerprint.slice(0, 12), c.restricted ? 'yes' : 'no', c.projects.join(',')]);
  ctx.out(await renderListing({ headers: ['TYPE', 'NAME', 'FINGERPRINT', 'RESTRICTED', 'PROJECTS'], rows, objects: sorted }, opts.format));
}

/** `config trust remove FINGERPRINT`. */
export async function trustRemove(ctx: CliContext, arg: string): Promise<void> {
  const ref = await ctx.resolve(arg);
  const certs = await ref.client.get<string[]>('/1.0/certificates');
  const matches = certs.map((u) => u.split('/').pop() ?? '').filter((f) => f.startsWith(ref.name));
  if (ref.name === '' || matches.length === 0) throw new ShoalError(ErrorCode.NotFound, `Certificate "${ref.name}" not found`);
  if (matches.length > 1) throw new ShoalError(ErrorCode.InvalidArgument, `Certificate "${ref.name}" is ambiguous`);
  await ref.client.send('DELETE', `/1.0/certificates/${matches[0]!}`);
}
