/**
 * The only place that knows about leadership. The REST API is served by the Raft leader; a
 * follower forwards each request to the leader's API over HTTPS, authenticating with its own
 * member certificate (trust type `server` on the leader) and passing the caller's identity in
 * `x-shoal-forwarded-identity` (auth.ts). Bodies stream both ways; status, headers and body come
 * back unchanged. Websocket upgrades are forwarded too: the upstream websocket is opened first
 * (so an upstream refusal reaches the client as a normal HTTP error), then frames are bridged.
 *
 * Routing decision, per request (onRequest hook, after authentication and access checks):
 * 1. route `memberTarget` and `?target=<member>`: serve here if it names this member, otherwise
 *    forward to that member;
 * 2. route `local` (GET /1.0, /1.0/events): serve here;
 * 3. this member leads: serve here;
 * 4. the request was already forwarded to us by another member: 503 NOT_LEADER (no second hop;
 *    the client retries and reaches the new leader);
 * 5. a leader is known: forward to it;
 * 6. no leader: 503 "No cluster leader (<reason>)".
 */
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { WebSocket } from 'ws';
import { ErrorCode, ShoalError, errorMessage, type Logger } from '../shared/index.js';
import { FORWARDED_IDENTITY_HEADER, encodeForwardedIdentity } from './auth.js';
import { errorEnvelope } from './errors.js';
import type { Leadership, MemberAddress, MemberDirectory } from './ports.js';

/** TLS material a member uses to reach other members' APIs. */
export interface MemberTls {
  /** This member's certificate and key (PEM), issued by the cluster CA. */
  readonly certPem: string;
  readonly keyPem: string;
  /** The cluster CA (PEM): the other member's certificate must chain to it. */
  readonly caPem: string;
}

/** Header naming the member that forwarded a request (informational; trust comes from the certificate). */
export const FORWARDED_BY_HEADER = 'x-shoal-forwarded-by';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  FORWARDED_IDENTITY_HEADER,
  FORWARDED_BY_HEADER,
]);

/** Proxies requests to another member's API. */
export class Forwarder {
  private readonly agent: https.Agent;

  constructor(
    private readonly tls: MemberTls,
    private readonly memberName: () => string,
    private readonly log: Logger,
  ) {
    this.agent = new https.Agent({
      keepAlive: true,
      cert: tls.certPem,
      key: tls.keyPem,
      ca: tls.caPem,
      // Members are addressed by IP and renamed at will: the chain to the cluster CA is the check.
      checkServerIdentity: () => undefined,
    });
  }

  /**
   * Sends the request to `target` and streams the answer back (the reply is hijacked). `body`
   * replaces the raw request stream when fastify already consumed it (handlers forwarding late).
   * A connection failure before any response header becomes a 503 envelope.
   */
  proxy(request: FastifyRequest, reply: FastifyReply, target: MemberAddress, body?: unknown): void {
    reply.hijack();
    const { host, port } = splitAddress(target.address);
    const headers = this.upstreamHeaders(request);
    if (body !== undefined) {
      const payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
      delete headers['transfer-encoding'];
      const up = this.open(request, reply, target, host, port, headers);
      up.end(payload);
      return;
    }
    const up = this.open(request, reply, target, host, port, headers);
    request.raw.pipe(up);
  }

  /**
   * Opens the upstream websocket for a forwarded upgrade. Resolves with the open socket, or
   * throws a ShoalError carrying the upstream's HTTP refusal (status and LXD message).
   */
  openWebSocket(request: FastifyRequest, target: MemberAddress): Promise<WebSocket> {
    const url = `wss://${target.address}${request.raw.url ?? '/'}`;
    const headers = this.upstreamHeaders(request);
    for (const h of ['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'content-length']) delete headers[h];
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        cert: this.tls.certPem,
        key: this.tls.keyPem,
        ca: this.tls.caPem,
        // @types/ws says boolean, but ws hands this to tls.connect, where any truthy value is an error.
        checkServerIdentity: acceptAnyName,
        headers: headers as Record<string, string>,
      });
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => reject(upstreamRefusal(res.statusCode ?? 502, text)));
      });
      ws.once('error', (err) => reject(unreachable(target, err)));
    });
  }

  /** Bridges an accepted client websocket and an open upstream one until either closes. */
  bridge(client: WebSocket, upstream: WebSocket): void {
    client.on('message', (data, isBinary) => upstream.send(data, { binary: isBinary }));
    upstream.on('message', (data, isBinary) => client.send(data, { binary: isBinary }));
    const closeOther = (other: WebSocket) => (code: number, reason: Buffer) => {
      if (other.readyState === WebSocket.OPEN) other.close(sendableCode(code), reason);
    };
    client.on('close', closeOther(upstream));
    upstream.on('close', closeOther(client));
    client.on('error', (err) => {
      this.log.debug({ err }, 'forwarded websocket client error');
      upstream.terminate();
    });
    upstream.on('error', (err) => {
      this.log.debug({ err }, 'forwarded websocket upstream error');
      client.terminate();
    });
  }

  /** Releases pooled connections. */
  close(): void {
    this.agent.destroy();
  }

  private open(
    request: FastifyRequest,
    reply: FastifyReply,
    target: MemberAddress,
    host: string,
    port: number,
    headers: IncomingHttpHeaders,
  ): ReturnType<typeof https.request> {
    const started = Date.now();
    const up = https.request(
      { host, port, method: request.method, path: request.raw.url ?? '/', headers, agent: this.agent },
      (res) => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
        reply.raw.writeHead(res.statusCode ?? 502, out);
        res.pipe(reply.raw);
        res.on('end', () =>
          request.log.debug({ member: target.name, statusCode: res.statusCode, durationMs: Date.now() - started }, 'request forwarded'),
        );
      },
    );
    up.on('error', (err) => {
      if (reply.raw.headersSent) {
        reply.raw.destroy(err);
        return;
      }
      const e = unreachable(target, err);
      request.log.warn({ err, member: target.name }, 'forwarding failed');
      const payload = JSON.stringify(errorEnvelope(503, e.message));
      reply.raw.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
      reply.raw.end(payload);
    });
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) up.destroy();
    });
    return up;
  }

  private upstreamHeaders(request: FastifyRequest): IncomingHttpHeaders {
    const headers: IncomingHttpHeaders = {};
    for (const [k, v] of Object.entries(request.headers)) if (!HOP_BY_HOP.has(k)) headers[k] = v;
    headers[FORWARDED_IDENTITY_HEADER] = encodeForwardedIdentity(request.identity);
    headers[FORWARDED_BY_HEADER] = this.memberName();
    headers['x-request-id'] = request.id;
    return headers;
  }
}

/** Where a request must be served. */
export type Route = { readonly kind: 'here' } | { readonly kind: 'forward'; readonly to: MemberAddress };

/** Inputs of {@link routeRequest}. */
export interface RoutingDeps {
  readonly leadership: Leadership;
  readonly members: MemberDirectory | undefined;
  readonly memberName: () => string;
}

/** The routing decision described in the module comment. Throws UNAVAILABLE/NOT_LEADER/NOT_FOUND. */
export function routeRequest(request: FastifyRequest, deps: RoutingDeps): Route {
  const config = request.routeOptions.config;
  const self = deps.memberName();
  if (config.memberTarget) {
    const target = (request.query as Record<string, unknown> | undefined)?.['target'];
    if (typeof target === 'string' && target !== '' && !target.startsWith('@')) {
      if (target === self) return { kind: 'here' };
      const member = deps.members?.lookup(target);
      if (!member) throw new ShoalError(ErrorCode.NotFound, `Cluster member "${target}" not found`);
      if (request.identity.forwardedBy !== undefined) {
        throw new ShoalError(ErrorCode.Unavailable, `Request for member "${target}" reached member "${self}"`);
      }
      return { kind: 'forward', to: member };
    }
  }
  if (config.local) return { kind: 'here' };
  const state = deps.leadership.state();
  if (state.role === 'leader') return { kind: 'here' };
  if (request.identity.forwardedBy !== undefined) {
    throw new ShoalError(ErrorCode.NotLeader, `Member "${self}" is not the leader any more; retry the request`);
  }
  if (state.role === 'follower') return { kind: 'forward', to: state.leader };
  const why = state.reason ?? 'election in progress or quorum lost';
  throw new ShoalError(ErrorCode.Unavailable, `No cluster leader (${why}); retry shortly`);
}

const acceptAnyName = (() => undefined) as unknown as (servername: string, cert: unknown) => boolean;

function splitAddress(address: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  if (!m) throw new ShoalError(ErrorCode.Internal, `Invalid member address "${address}"`);
  return { host: m[1]!, port: Number(m[2]) };
}

function unreachable(target: MemberAddress, err: unknown): ShoalError {
  return new ShoalError(ErrorCode.Unavailable, `Failed forwarding request to member "${target.name}": ${errorMessage(err)}`, {
    cause: err,
  });
}

function upstreamRefusal(status: number, body: string): ShoalError {
  let message = `Upstream answered HTTP ${status}`;
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string' && parsed.error !== '') message = parsed.error;
  } catch {
    // Not an envelope: keep the generic message.
  }
  const code =
    status === 404 ? ErrorCode.NotFound : status === 403 ? ErrorCode.PermissionDenied : status === 400 ? ErrorCode.InvalidArgument : ErrorCode.Unavailable;
  return new ShoalError(code, message);
}

function sendableCode(code: number): number {
  // 1005/1006/1015 are reserved for reporting and cannot be sent.
  return code === 1005 || code === 1006 || code === 1015 || code < 1000 ? 1000 : code;
}
