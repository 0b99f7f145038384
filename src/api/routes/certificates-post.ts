/**
 * `POST /1.0/certificates` (LXD certificatesPost), in LXD's order of checks:
 * - `{token: true}` (administrators): a trust token operation (class token) whose metadata lets
 *   lxc build the token `{client_name, fingerprint, addresses, secret, expires_at}`; the secret is
 *   stored hashed and expires after `core.remote_token_expiry` (default here "1d");
 * - an untrusted caller presenting a token as `password` or `trust_token`: the token is consumed
 *   (single use; its operation is cancelled) and the caller's TLS certificate (or the one in the
 *   body) is trusted with the name/type/projects the token was issued for;
 * - an administrator with `certificate` (base64 DER): that certificate is trusted.
 * Trust passwords (`core.trust_password`) are not supported: a password that is not a token is
 * refused with 403, as a wrong password is in LXD.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { isAdmin, notAuthorized, requestorOf } from '../auth.js';
import { certificateFromBase64Der, certificateFromPem, type CertificateMaterial } from '../certificates/material.js';
import {
  checkNotExpired,
  decodeTrustToken,
  hashTrustTokenSecret,
  looksLikeJoinToken,
  newTrustTokenSecret,
} from '../certificates/trust-token.js';
import type { ApiDeps } from '../deps.js';
import { expiryFrom } from '../expiry.js';
import type { PendingTrustToken } from '../ports.js';
import type { ApiRequest } from '../route.js';
import { asyncResponse, created, type SyncEnvelope } from '../response.js';
import { ErrorCode, ShoalError, errors, isShoalError, wrap } from '../../shared/index.js';
import {
  AsyncResponse,
  CertificatesPost,
  LifecycleAction,
  NullSyncResponse,
  type AsyncResponse as AsyncResponseT,
  type CertificateType,
} from '../types/index.js';

/** Operation `type` of trust tokens (for OperationManager.recover's token hooks). */
export const TRUST_TOKEN_OPERATION = 'certificate-add-token';

const postSchema = { body: Type.Optional(CertificatesPost), response: { 201: NullSyncResponse, 202: AsyncResponse } };
type PostRequest = ApiRequest<typeof postSchema>;

/** The POST route. */
export function certificatesPostRoute(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/1.0/certificates',
      {
        config: { access: 'untrusted' },
        schema: postSchema,
      },
      (req, reply) => certificatesPost(deps, req, reply),
    );
  };
}

/** Revoke hooks to pass to `OperationManager.recover({tokens})` after a leader change. */
export function trustTokenRevokers(deps: ApiDeps): ReadonlyMap<string, (operationId: string) => Promise<void>> {
  return new Map([[TRUST_TOKEN_OPERATION, (id: string) => deps.trustTokens.remove(id)]]);
}

/** The handler. */
export async function certificatesPost(
  deps: ApiDeps,
  req: PostRequest,
  reply: FastifyReply,
): Promise<SyncEnvelope<null> | AsyncResponseT> {
  const body: CertificatesPost = req.body ?? {};
  const identity = req.identity;
  if (body.token && body.certificate) throw errors.invalid("Can't use certificate if token is requested");
  if (body.token && body.type !== undefined && body.type !== '' && body.type !== 'client') {
    throw errors.invalid('Tokens can only be issued for client certificates');
  }
  if (identity.trusted && !body.certificate && !body.token) throw errors.invalid('Client is already trusted');

  let grant: { name: string; type: CertificateType; restricted: boolean; projects: readonly string[] } = {
    name: body.name ?? '',
    type: body.type || 'client',
    restricted: body.restricted ?? false,
    projects: body.projects ?? [],
  };
  if (!isAdmin(identity)) {
    const presented = body.trust_token || body.password || '';
    if (body.token || presented === '') throw notAuthorized();
    const pending = await consumeTrustToken(deps, presented);
    grant = { name: pending.name, type: pending.type, restricted: pending.restricted, projects: pending.projects };
  } else if (body.token) {
    return createTrustToken(deps, req, reply, grant);
  }

  const now = deps.clock.now();
  let material: CertificateMaterial;
  if (body.certificate) material = certificateFromBase64Der(body.certificate, now);
  else if (identity.certificate) material = certificateFromPem(identity.certificate, now);
  else throw errors.invalid('No client certificate provided');

  const name = grant.name || material.commonName || identity.address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  await deps.trust.add({
    fingerprint: material.fingerprint,
    type: grant.type,
    name,
    certificate: material.pem,
    restricted: grant.restricted,
    projects: [...grant.projects],
  });
  const url = `/1.0/certificates/${material.fingerprint}`;
  req.log.info({ fingerprint: material.fingerprint, name, type: grant.type }, 'certificate trusted');
  deps.events.lifecycle('default', LifecycleAction.CertificateCreated, url, undefined, requestorOf(identity));
  return created(reply, url);
}

async function consumeTrustToken(deps: ApiDeps, presented: string): Promise<PendingTrustToken> {
  const token = decodeTrustToken(presented);
  if (!token) {
    if (looksLikeJoinToken(presented)) {
      throw new ShoalError(ErrorCode.PermissionDenied, 'Cluster join tokens are for "shoald init --join", not for adding clients');
    }
    throw notAuthorized();
  }
  const pending = await deps.trustTokens.take(hashTrustTokenSecret(token.secret));
  if (!pending) throw new ShoalError(ErrorCode.PermissionDenied, 'No matching certificate add operation found');
  try {
    await deps.operations.cancel(pending.operationId);
  } catch (err) {
    // The token is already consumed (taken from the store); its operation may have ended or live
    // on another member after a leader change. Nothing else depends on cancelling it here.
    if (!isShoalError(err, ErrorCode.NotFound) && !isShoalError(err, ErrorCode.FailedPrecondition)) throw err;
  }
  checkNotExpired(pending.expiresAt, deps.clock.now());
  return pending;
}

async function createTrustToken(
  deps: ApiDeps,
  req: PostRequest,
  reply: FastifyReply,
  grant: { name: string; restricted: boolean; projects: readonly string[] },
): Promise<AsyncResponseT> {
  const env = deps.serverInfo.environment('default');
  if (env.addresses.length === 0) throw errors.invalid("Can't issue token when server isn't listening on network");
  const config = await deps.serverConfig.get();
  const expr = config['core.remote_token_expiry'] ?? deps.defaultTrustTokenExpiry ?? '1d';
  let expiresAt: number | undefined;
  try {
    expiresAt = expiryFrom(deps.clock.now(), expr);
  } catch (err) {
    throw wrap(err, 'Invalid core.remote_token_expiry', ErrorCode.Internal);
  }
  const secret = newTrustTokenSecret();
  const request = {
    name: grant.name,
    type: 'client',
    restricted: grant.restricted,
    projects: [...grant.projects],
    certificate: '',
    password: '',
    token: true,
  };
  let operationId = '';
  const op = await deps.operations.createToken({
    type: TRUST_TOKEN_OPERATION,
    description: 'Certificate add token',
    project: '',
    resources: {},
    metadata: {
      request,
      secret,
      fingerprint: env.certificate_fingerprint,
      addresses: [...env.addresses],
      ...(expiresAt !== undefined ? { expiresAt: new Date(expiresAt).toISOString() } : {}),
    },
    secretKeys: ['secret'],
    requestId: req.id,
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    onCancel: () => deps.trustTokens.remove(operationId),
  });
  operationId = op.id;
  try {
    await deps.trustTokens.add({
      operationId: op.id,
      name: grant.name,
      type: 'client',
      restricted: grant.restricted,
      projects: [...grant.projects],
      secretHash: hashTrustTokenSecret(secret),
      expiresAt,
    });
  } catch (err) {
    await deps.operations.cancel(op.id).catch((cancelErr: unknown) => {
      req.log.warn({ err: cancelErr, op: op.id }, 'failed to cancel the token operation of a failed token');
    });
    throw err;
  }
  req.log.info({ op: op.id, name: grant.name }, 'trust token issued');
  return asyncResponse(reply, deps.operations.get(op.id) ?? op);
}
