/**
 * The member's API listeners: HTTPS on `core.https_address` (member certificate, client
 * certificates checked against the trust store) and the local unix socket
 * (`$SHOAL_DIR/unix.socket`, mode 0660, full trust). Both are `buildApp` over the same ApiDeps,
 * so they share operations and events; only the Authenticator and TLS differ.
 */
import { chmod, lstat, unlink } from 'node:fs/promises';
import type { Server as HttpsServer } from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ErrorCode, ShoalError, type AsyncDisposable } from '../shared/index.js';
import { buildApp, type App } from './app.js';
import { TlsAuthenticator, UnixAuthenticator } from './auth.js';
import type { ApiDeps } from './deps.js';

/** What to listen on. */
export interface ApiServerOptions {
  readonly deps: ApiDeps;
  /** HTTPS listener; `port: 0` picks a free port (see {@link ApiServer.httpsAddress}). */
  readonly https?: { readonly host: string; readonly port: number; readonly certPem: string; readonly keyPem: string };
  /** Unix socket listener; an existing socket file nobody listens on is replaced. */
  readonly unixSocket?: { readonly path: string; readonly mode?: number };
}

/** Running listeners. */
export interface ApiServer extends AsyncDisposable {
  /** Bound HTTPS address, when listening. */
  readonly httpsAddress: { readonly host: string; readonly port: number } | undefined;
  readonly unixSocketPath: string | undefined;
  readonly apps: readonly App[];
  /** Presents a new certificate to new HTTPS connections (renewal without restart). */
  setCertificate(certPem: string, keyPem: string): void;
}

/** Starts the listeners. On failure, whatever started is closed again before the error is thrown. */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const apps: App[] = [];
  let httpsAddress: ApiServer['httpsAddress'];
  let httpsApp: App | undefined;
  const closeAll = async (): Promise<void> => {
    for (const app of apps.reverse()) await app.close();
  };
  try {
    if (options.https) {
      const h = options.https;
      httpsApp = buildApp(options.deps, {
        name: 'https',
        authenticator: new TlsAuthenticator(options.deps.trust),
        https: { certPem: h.certPem, keyPem: h.keyPem },
      });
      apps.push(httpsApp);
      await httpsApp.listen({ host: h.host, port: h.port });
      const a = httpsApp.server.address() as AddressInfo;
      httpsAddress = { host: a.address, port: a.port };
    }
    if (options.unixSocket) {
      const u = options.unixSocket;
      await removeStaleSocket(u.path);
      const unixApp = buildApp(options.deps, { name: 'unix', authenticator: new UnixAuthenticator() });
      apps.push(unixApp);
      await unixApp.listen({ path: u.path });
      await chmod(u.path, u.mode ?? 0o660);
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  let closed = false;
  return {
    httpsAddress,
    unixSocketPath: options.unixSocket?.path,
    apps,
    setCertificate(certPem: string, keyPem: string): void {
      (httpsApp?.server as HttpsServer | undefined)?.setSecureContext({ cert: certPem, key: keyPem });
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await closeAll();
    },
  };
}

/** Removes `path` if it is a socket nobody accepts connections on; refuses to touch anything else. */
async function removeStaleSocket(path: string): Promise<void> {
  const st = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return;
  if (!st.isSocket()) throw new ShoalError(ErrorCode.FailedPrecondition, `"${path}" exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const c = net.connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (live) throw new ShoalError(ErrorCode.FailedPrecondition, `Another daemon is listening on "${path}"`);
  await unlink(path);
}
