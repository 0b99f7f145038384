/**
 * `/1.0/certificates` (LXD lxd/certificates.go): list, get (by fingerprint or unique prefix),
 * PUT/PATCH (ETag; a restricted caller may only replace its own certificate), DELETE. Adding
 * (`POST`) lives in certificates-post.ts.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { isAdmin, requestorOf } from '../auth.js';
import { certificateFromPem } from '../certificates/material.js';
import type { ApiDeps } from '../deps.js';
import type { TrustedCertificate } from '../ports.js';
import type { ApiRequest } from '../route.js';
import { CommonQuery, commonParams } from '../query.js';
import { checkIfMatch, sync, syncEmpty, withEtag, type SyncEnvelope } from '../response.js';
import { ErrorCode, ShoalError, errors } from '../../shared/index.js';
import {
  Certificate,
  CertificatePut,
  EmptySyncResponse,
  LifecycleAction,
  SyncResponse,
  type Certificate as CertificateT,
} from '../types/index.js';
import { certificatesPostRoute } from './certificates-post.js';

const FingerprintParams = Type.Object({ fingerprint: Type.String() });
const putSchema = { params: FingerprintParams, body: CertificatePut, response: { 200: EmptySyncResponse } };

/** Routes of `/1.0/certificates`. */
export function certificateRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/1.0/certificates',
      {
        config: { access: 'trusted' },
        schema: { querystring: CommonQuery, response: { 200: SyncResponse(Type.Union([Type.Array(Certificate), Type.Array(Type.String())])) } },
      },
      async (req) => {
        const { recursion } = commonParams(req.query);
        const all = await deps.trust.list();
        if (recursion > 0) return sync(all.map(toApi));
        return sync(all.map((c) => `/1.0/certificates/${c.fingerprint}`));
      },
    );

    await app.register(certificatesPostRoute(deps));

    app.get(
      '/1.0/certificates/:fingerprint',
      { config: { access: 'trusted' }, schema: { params: FingerprintParams, response: { 200: SyncResponse(Certificate) } } },
      async (req, reply) => {
        const cert = toApi(await findCertificate(deps, req.params.fingerprint));
        return withEtag(reply, cert, sync(cert));
      },
    );

    app.put('/1.0/certificates/:fingerprint', { config: { access: 'trusted' }, schema: putSchema }, (req) =>
      certificateUpdate(deps, req, 'replace'),
    );
    app.patch('/1.0/certificates/:fingerprint', { config: { access: 'trusted' }, schema: putSchema }, (req) =>
      certificateUpdate(deps, req, 'merge'),
    );

    app.delete(
      '/1.0/certificates/:fingerprint',
      { config: { access: 'admin' }, schema: { params: FingerprintParams, response: { 200: EmptySyncResponse } } },
      async (req) => {
        const cert = await findCertificate(deps, req.params.fingerprint);
        await deps.trust.remove(cert.fingerprint);
        deps.events.lifecycle('default', LifecycleAction.CertificateDeleted, `/1.0/certificates/${cert.fingerprint}`, undefined, requestorOf(req.identity));
        return syncEmpty();
      },
    );
  };
}

/** A trust store entry as the API shows it. */
export function toApi(c: TrustedCertificate): CertificateT {
  return {
    name: c.name,
    type: c.type,
    restricted: c.restricted,
    projects: [...c.projects],
    certificate: c.certificate,
    fingerprint: c.fingerprint,
  };
}

/** The entry whose fingerprint is `prefix` or starts with it (LXD GetCertificateByFingerprintPrefix). */
export async function findCertificate(deps: ApiDeps, prefix: string): Promise<TrustedCertificate> {
  const p = prefix.toLowerCase();
  if (!/^[0-9a-f]{1,64}$/.test(p)) throw new ShoalError(ErrorCode.NotFound, 'Certificate not found');
  const exact = p.length === 64 ? await deps.trust.get(p) : undefined;
  if (exact) return exact;
  const matches = (await deps.trust.list()).filter((c) => c.fingerprint.startsWith(p));
  if (matches.length === 0) throw new ShoalError(ErrorCode.NotFound, 'Certificate not found');
  if (matches.length > 1) throw errors.invalid('More than one certificate matches');
  return matches[0]!;
}

/** `PUT` (replace) and `PATCH` (merge) of a certificate (LXD doCertificateUpdate). */
export async function certificateUpdate(
  deps: ApiDeps,
  req: ApiRequest<typeof putSchema>,
  mode: 'replace' | 'merge',
): Promise<SyncEnvelope<Record<string, never>>> {
  const found = await findCertificate(deps, req.params.fingerprint);
  const body: CertificatePut = req.body;
  const identity = req.identity;
  await deps.trust.update(found.fingerprint, (current) => {
    const api = toApi(current);
    checkIfMatch(req, api);
    const next = mode === 'merge' ? { ...api, ...definedOnly(body) } : { ...body };
    const type = next.type;
    if (type !== 'client' && type !== 'server' && type !== 'metrics') throw errors.invalid(`Invalid certificate type "${type ?? ''}"`);
    const projects = next.projects ?? [];
    let updated: TrustedCertificate = {
      ...current,
      name: next.name ?? '',
      type,
      restricted: next.restricted ?? false,
      projects: [...projects],
    };
    if (!isAdmin(identity)) {
      const sameProjects = projects.length === current.projects.length && projects.every((p, i) => p === current.projects[i]);
      if (updated.restricted !== current.restricted || updated.name !== current.name || !sameProjects || updated.type !== current.type) {
        throw new ShoalError(ErrorCode.PermissionDenied, 'Only the certificate can be changed');
      }
    }
    if (next.certificate && next.certificate !== current.certificate) {
      if (!isAdmin(identity) && identity.fingerprint !== current.fingerprint) {
        throw new ShoalError(ErrorCode.PermissionDenied, 'Certificate cannot be changed');
      }
      const material = certificateFromPem(next.certificate, deps.clock.now());
      updated = { ...updated, certificate: material.pem, fingerprint: material.fingerprint };
    }
    return updated;
  });
  deps.events.lifecycle('default', LifecycleAction.CertificateUpdated, `/1.0/certificates/${found.fingerprint}`, undefined, requestorOf(identity));
  return syncEmpty();
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
