/**
 * Member-to-member calls on other members' REST APIs (the `/internal/cluster/*` routes), over
 * HTTPS authenticated by this member's own certificate; the other member's chain must lead to the
 * cluster CA (names are not checked: members are addressed by IP and may be renamed).
 */
import https from 'node:https';
import { ErrorCode, ShoalError } from '../shared/index.js';

export class MemberHttps {
  private readonly agent: https.Agent;

  constructor(tls: { readonly certPem: string; readonly keyPem: string; readonly caPem: string }) {
    this.agent = new https.Agent({ keepAlive: true, cert: tls.certPem, key: tls.keyPem, ca: tls.caPem, checkServerIdentity: () => undefined });
  }

  /** `method url` (`https://host:port/path`); the `metadata` of a 200 answer, otherwise a ShoalError (UNAVAILABLE when unreachable). */
  call(method: 'GET' | 'POST', url: string, timeoutMs = 3000, body: unknown = {}): Promise<unknown> {
    const payload = method === 'POST' ? Buffer.from(JSON.stringify(body)) : undefined;
    return new Promise((resolve, reject) => {
      const headers = payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {};
      const req = https.request(url, { method, agent: this.agent, timeout: timeoutMs, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let body: { metadata?: unknown; error?: string } | undefined;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
          } catch (err) {
            return reject(new ShoalError(ErrorCode.Internal, `Invalid answer from ${url}`, { cause: err }));
          }
          if (res.statusCode === 200) resolve(body?.metadata);
          else reject(new ShoalError(res.statusCode === 404 ? ErrorCode.NotFound : res.statusCode === 403 ? ErrorCode.PermissionDenied : ErrorCode.Unavailable, body?.error ?? `HTTP ${res.statusCode}`));
        });
      });
      req.on('timeout', () => req.destroy(new ShoalError(ErrorCode.Unavailable, `${url} did not answer in time`)));
      req.on('error', (err) => reject(err instanceof ShoalError ? err : new ShoalError(ErrorCode.Unavailable, `Cannot reach ${url}: ${err.message}`, { cause: err })));
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
