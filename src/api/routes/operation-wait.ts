/**
 * `GET /1.0/operations/<id>/wait?timeout=N` (N seconds, -1 or absent = forever). Answers the
 * operation once it is final. As LXD (5.0.9+) does, a timeout is reported as an error envelope
 * under HTTP 200 (lxc and pylxd read the body); here its `error_code` is 504. Untrusted callers
 * must pass `?secret=` matching the operation's metadata `secret` (LXD: public image tokens).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { notAuthorized } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { errorEnvelope } from '../errors.js';
import { sync } from '../response.js';
import { errors } from '../../shared/index.js';
import { ErrorResponse, Operation, SyncResponse } from '../types/index.js';
import { visibleOperation } from './operation-access.js';

const WaitQuery = Type.Object({
  timeout: Type.Optional(Type.String()),
  secret: Type.Optional(Type.String()),
  project: Type.Optional(Type.String()),
});

/** The wait route (a plugin of its own so operations.ts stays small). */
export function operationWaitRoute(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/1.0/operations/:id/wait',
      {
        config: { access: 'untrusted' },
        schema: {
          params: Type.Object({ id: Type.String() }),
          querystring: WaitQuery,
          response: { 200: Type.Union([SyncResponse(Operation), ErrorResponse]) },
        },
      },
      async (req) => {
        const { id } = req.params;
        const { secret } = req.query;
        const timeoutSeconds = parseTimeout(req.query.timeout);
        if (req.identity.trusted) {
          visibleOperation(deps, req.identity, id);
        } else {
          const op = deps.operations.get(id);
          if (!secret || !op || op.metadata?.['secret'] !== secret) throw notAuthorized();
        }
        const abort = new AbortController();
        const onClose = (): void => abort.abort();
        req.raw.once('close', onClose);
        try {
          const { op, timedOut } = await deps.operations.wait(id, timeoutSeconds < 0 ? undefined : timeoutSeconds * 1000, abort.signal);
          if (timedOut) return errorEnvelope(504, 'Timed out waiting for operation');
          return sync(op);
        } finally {
          req.raw.off('close', onClose);
        }
      },
    );
  };
}

function parseTimeout(text: string | undefined): number {
  if (text === undefined || text === '') return -1;
  if (!/^-?\d+$/.test(text)) throw errors.invalid(`Invalid timeout "${text}"`);
  return Number(text);
}
