/**
 * How the CLI reaches a server: HTTP over the member's unix socket (full trust, the default
 * remote) or HTTPS with a client certificate, pinning the server certificate by its SHA-256
 * fingerprint (the way lxc pins `servercerts/<remote>.crt`). Only node:http/https/tls: this file
 * is on the startup path of every command, so it imports nothing heavy.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Duplex, Readable } from 'node:stream';
import tls from 'node:tls';
import { ErrorCode, ShoalError } from '../../shared/errors.js';

/** Where a remote lives and how to authenticate to it. */
export type Endpoint =
  | { readonly kind: 'unix'; readonly socketPath: string }
  | {
      readonly kind: 'https';
      /** `host:port` (IPv6 hosts in brackets). */
      readonly address: string;
      /** Client certificate and key (PEM); absent for the first, untrusted contact. */
      readonly certPem?: string;
      readonly keyPem?: string;
      /**
       * Expected SHA-256 fingerprint (hex) of the server's certificate. Undefined accepts any
       * certificate (only for `remote add --accept-certificate` and fingerprint discovery).
       */
      readonly serverFingerprint: string | undefined;
    };

/** One HTTP exchange. */
export interface RawRequest {
  readonly method: string;
  /** Path with query string, starting with `/`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** JSON bodies are passed already serialized; a stream is piped (image uploads). */
  readonly body?: string | Buffer | Readable;
  readonly signal?: AbortSignal;
}

/** The answer, fully read. */
export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Splits `host:port` / `[v6]:port`. */
export function splitHostPort(address: string, defaultPort = 8443): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(address) ?? /^([^:]+)(?::(\d+))?$/.exec(address);
  if (!m || !m[1]) throw new ShoalError(ErrorCode.InvalidArgument, `Invalid address "${address}"`);
  return { host: m[1], port: m[2] ? Number(m[2]) : defaultPort };
}

/** SHA-256 fingerprint (hex) of a DER certificate. */
export function fingerprintOfDer(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

/**
 * An http.Agent whose TLS connections are handed to the HTTP client only after the server's
 * certificate matched the pinned fingerprint (nothing is sent to an impostor). It records the
 * certificate it saw, so `remote add` can store it.
 */
class PinnedAgent extends https.Agent {
  lastPeerDer: Buffer | undefined;

  constructor(private readonly endpoint: Extract<Endpoint, { kind: 'https' }>) {
    super({ keepAlive: false });
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: (err: Error | null, socket: Duplex) => void,
  ): Duplex | null | undefined {
    const { host, port } = splitHostPort(this.endpoint.address);
    const socket = tls.connect({
      host,
      port,
      servername: /^[\d.:]+$/.test(host) ? undefined : host,
      rejectUnauthorized: false,
      ...(this.endpoint.certPem && this.endpoint.keyPem ? { cert: this.endpoint.certPem, key: this.endpoint.keyPem } : {}),
    } as tls.ConnectionOptions);
    const fail = (err: Error): void => {
      socket.destroy();
      callback?.(err, socket);
    };
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      socket.off('error', fail);
      const der = socket.getPeerCertificate(false).raw as Buffer | undefined;
      this.lastPeerDer = der;
      const expected = this.endpoint.serverFingerprint;
      if (expected !== undefined && (!der || fingerprintOfDer(der) !== expected.toLowerCase())) {
        fail(
          new ShoalError(
            ErrorCode.Unauthenticated,
            `Server certificate of "${this.endpoint.address}" does not match the pinned fingerprint`,
          ),
        );
        return;
      }
      callback?.(null, socket);
    });
    void options;
    return undefined;
  }
}

/** A connection to one server; stateless apart from the agent. */
export class Transport {
  private readonly agent: http.Agent;

  constructor(readonly endpoint: Endpoint) {
    this.agent =
      endpoint.kind === 'unix'
        ? new http.Agent({ keepAlive: true })
        : new PinnedAgent(endpoint);
  }

  /** The server certificate (DER) seen on the last HTTPS connection. */
  get peerCertificate(): Buffer | undefined {
    return this.agent instanceof PinnedAgent ? this.agent.lastPeerDer : undefined;
  }

  /** A printable name for errors (`unix:/var/lib/shoal/unix.socket`, `https://h:8443`). */
  get description(): string {
    return this.endpoint.kind === 'unix' ? `unix:${this.endpoint.socketPath}` : `https://${this.endpoint.address}`;
  }

  /** Sends one request and reads the whole answer. Connection failures are UNAVAILABLE. */
  request(req: RawRequest): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      const headers: Record<string, string> = { 'user-agent': 'shoal', ...(req.headers ?? {}) };
      if (typeof req.body === 'string' || Buffer.isBuffer(req.body)) headers['content-length'] = String(Buffer.byteLength(req.body));
      const options: http.RequestOptions = {
        method: req.method,
        path: req.path,
        headers,
        agent: this.agent,
        ...(this.endpoint.kind === 'unix' ? { socketPath: this.endpoint.socketPath } : { host: 'shoal' }),
        ...(req.signal ? { signal: req.signal } : {}),
      };
      const r = (this.endpoint.kind === 'unix' ? http : https).request(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', (err) => reject(this.connectionError(err)));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      r.once('error', (err) => reject(this.connectionError(err)));
      if (req.body === undefined) r.end();
      else if (typeof req.body === 'string' || Buffer.isBuffer(req.body)) r.end(req.body);
      else {
        req.body.once('error', (err) => r.destroy(err));
        req.body.pipe(r);
      }
    });
  }

  /** Options for a `ws` WebSocket to `path` on this server (same socket/agent and credentials). */
  websocketTarget(path: string): { url: string; options: Record<string, unknown> } {
    if (this.endpoint.kind === 'unix') return { url: `ws+unix://${this.endpoint.socketPath}:${path}`, options: {} };
    return { url: `wss://${this.endpoint.address}${path}`, options: { agent: this.agent } };
  }

  /** Releases pooled connections (the process can exit without waiting for keep-alive timers). */
  close(): void {
    this.agent.destroy();
  }

  private connectionError(err: Error): Error {
    if (err instanceof ShoalError) return err;
    if (err.name === 'AbortError') return new ShoalError(ErrorCode.Cancelled, 'Request cancelled', { cause: err });
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' || code === 'ECONNREFUSED' ? 'no server is listening' : err.message;
    return new ShoalError(ErrorCode.Unavailable, `Failed connecting to ${this.description}: ${why}`, { cause: err });
  }
}
