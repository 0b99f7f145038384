/**
 * A closed-loop HTTPS load generator, like N real API clients: each client owns one keep-alive
 * TLS connection (presenting the trusted client certificate), sends a GET, reads and JSON-parses
 * the whole answer (as lxc and pylxd do), checks it is a 200 sync envelope, and sends the next.
 * Counts completed requests in a fixed window after a warm-up and records every latency.
 */
import https from 'node:https';
import { nowMs } from '../agent/stats.js';

/** Who to call, and as whom. */
export interface LoadTarget {
  /** `host:port` per client, round-robin (client i uses addresses[i % length]). */
  readonly addresses: readonly string[];
  readonly certPem: string;
  readonly keyPem: string;
}

/** What one run measured. */
export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * Runs `clients` concurrent clients against `path` for `warmupS` (not counted) then `seconds`.
 * Throws on the first non-200 answer (a benchmark of errors is no benchmark).
 */
export async function runLoad(target: LoadTarget, path: string, clients: number, seconds: number, warmupS = 1): Promise<LoadResult> {
  const agents = target.addresses.map(
    () => new https.Agent({ keepAlive: true, maxSockets: clients, cert: target.certPem, key: target.keyPem, rejectUnauthorized: false }),
  );
  const latencies: number[] = [];
  let counting = false;
  let stop = false;
  let failure: Error | undefined;
  const one = (i: number): Promise<void> => {
    const address = target.addresses[i % target.addresses.length]!;
    const [host, port] = address.split(':');
    const t0 = nowMs();
    return new Promise((resolve, reject) => {
      const req = https.request({ host, port: Number(port), path, method: 'GET', agent: agents[i % agents.length]! }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type?: string; error?: string };
            if (res.statusCode !== 200 || body.type !== 'sync') throw new Error(`GET ${path} on ${address}: HTTP ${res.statusCode ?? 0} ${body.error ?? ''}`);
            if (counting) latencies.push(nowMs() - t0);
            resolve();
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  };
  const loop = async (i: number): Promise<void> => {
    while (!stop && !failure) {
      try {
        await one(i);
      } catch (err) {
        failure ??= err instanceof Error ? err : new Error(String(err));
      }
    }
  };
  const loops = Array.from({ length: clients }, (_, i) => loop(i));
  await new Promise((r) => setTimeout(r, warmupS * 1000));
  counting = true;
  const t0 = nowMs();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  counting = false;
  const elapsed = (nowMs() - t0) / 1000;
  const requests = latencies.length;
  stop = true;
  await Promise.all(loops);
  for (const a of agents) a.destroy();
  if (failure) throw failure;
  const sorted = latencies.sort((a, b) => a - b);
  const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  return { requests, seconds: elapsed, rps: requests / elapsed, p50Ms: q(0.5), p99Ms: q(0.99) };
}
