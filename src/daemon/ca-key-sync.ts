/**
 * Gives a voter the cluster CA key when it became one without it (a standby promoted in place of
 * an offline voter, or after a removal): every few seconds, a member whose record says `database`
 * and that has no key asks the other members (`GET /internal/cluster/ca-key`, authenticated by its
 * own member certificate; members hand the key to voters only) and stores the first answer whose
 * key matches the cluster CA certificate. So whichever voter leads can sign joiners' certificates,
 * while standbys, which never lead, hold no key.
 */
import { X509Certificate, createPublicKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { errorMessage, type Disposable, type Logger } from '../shared/index.js';
import { members, type StateStore } from '../state/index.js';
import { MemberHttps } from './member-https.js';
import { writePem, type ShoalPaths } from './paths.js';

export interface CaKeySyncOptions {
  readonly paths: ShoalPaths;
  readonly store: StateStore;
  readonly memberName: string;
  readonly tls: { readonly certPem: string; readonly keyPem: string; readonly caPem: string };
  readonly log: Logger;
  /** Default 2000 ms. */
  readonly everyMs?: number;
}

export class CaKeySync implements Disposable {
  private readonly timer: NodeJS.Timeout;
  private busy = false;
  private readonly https: MemberHttps;

  constructor(private readonly o: CaKeySyncOptions) {
    this.https = new MemberHttps(o.tls);
    this.timer = setInterval(() => void this.round(), o.everyMs ?? 2000);
    this.timer.unref();
  }

  /** One attempt; true once this member holds the key. */
  async round(): Promise<boolean> {
    if (existsSync(this.o.paths.caKey)) return true;
    if (this.busy) return false;
    this.busy = true;
    try {
      const view = await this.o.store.view({ stale: true });
      if (!view.get(members, this.o.memberName)?.record.roles.includes('database')) return false;
      for (const m of view.list(members)) {
        if (m.record.server_name === this.o.memberName) continue;
        try {
          const key = await this.fetch(m.record.url);
          if (!matchesCa(key, this.o.tls.caPem)) {
            this.o.log.warn({ peer: m.record.server_name }, 'a member answered with a CA key that does not match the cluster CA');
            continue;
          }
          await writePem(this.o.paths.caKey, key, true);
          this.o.log.info({ peer: m.record.server_name }, 'cluster CA key received: this voter can admit members');
          return true;
        } catch (err) {
          this.o.log.debug({ peer: m.record.server_name, err: errorMessage(err) }, 'no CA key from this member');
        }
      }
      return false;
    } finally {
      this.busy = false;
    }
  }

  private async fetch(url: string): Promise<string> {
    const md = (await this.https.call('GET', `${url}/internal/cluster/ca-key`)) as { ca_key?: unknown } | undefined;
    if (typeof md?.ca_key !== 'string') throw new Error('no key in the answer');
    return md.ca_key;
  }

  dispose(): void {
    clearInterval(this.timer);
    this.https.close();
  }
}

/** True when `keyPem` is the private key of the CA certificate `caPem`. */
function matchesCa(keyPem: string, caPem: string): boolean {
  try {
    const pub = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
    return Buffer.from(pub).equals(new X509Certificate(caPem).publicKey.export({ type: 'spki', format: 'der' }));
  } catch {
    return false; // not a key at all
  }
}
