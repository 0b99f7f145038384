/**
 * Types for handlers written as standalone functions (`instancesGet(deps, req, reply)`): the
 * request/reply types fastify's TypeBox provider infers from a route's schema object.
 *
 *   const instancesGetSchema = { querystring: CommonQuery, response: { 200: … } };
 *   export async function instancesGet(deps: ApiDeps, req: ApiRequest<typeof instancesGetSchema>) {…}
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger, FastifyRequest, FastifySchema, RawServerDefault, RouteGenericInterface } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';

/** The request of a route whose schema is `S`. */
export type ApiRequest<S extends FastifySchema> = FastifyRequest<
  RouteGenericInterface,
  RawServerDefault,
  IncomingMessage,
  S,
  TypeBoxTypeProvider,
  unknown,
  FastifyBaseLogger
>;
