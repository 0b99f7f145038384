// The API over a REAL one-member cluster database (state-harness.ts) built with createApiDeps, as
// the daemon builds it; only authentication is the test's (FakeAuthenticator picks the caller).
// `const t = await dbApp(); after(() => t.close())`; `t.inject({ ..., as: 'unix' })`.
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp, type App } from '../../../src/api/app.js';
import type { Identity } from '../../../src/api/auth.js';
import { createApiDeps } from '../../../src/api/create-deps.js';
import type { ApiDeps } from '../../../src/api/deps.js';
import type { MemberAgents } from '../../../src/api/ports.js';
import { silentLogger } from '../../../src/shared/index.js';
import { FAKE_IDENTITY_HEADER, FakeAuthenticator, FakeLeadership, FakeServerInfo } from './fake-ports.js';
import { openOneMemberDb, type OneMemberDb } from './state-harness.js';

export interface DbApp {
  readonly app: App;
  readonly deps: ApiDeps;
  readonly db: OneMemberDb;
  inject(opts: InjectOptions & { as?: 'unix' | 'untrusted' | Identity }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function dbApp(opts: { agents?: MemberAgents } = {}): Promise<DbApp> {
  const db = await openOneMemberDb('m1');
  const info = new FakeServerInfo();
  const deps = createApiDeps({
    store: db.store,
    log: silentLogger(),
    serverInfo: info,
    leadership: new FakeLeadership(),
    ...(opts.agents ? { agents: opts.agents } : {}),
  });
  const app = buildApp(deps, { authenticator: new FakeAuthenticator() });
  return {
    app,
    deps,
    db,
    inject(o) {
      const { as, ...rest } = o;
      const headers = { ...(rest.headers ?? {}) } as Record<string, string>;
      headers[FAKE_IDENTITY_HEADER] = as === undefined ? 'unix' : typeof as === 'string' ? as : JSON.stringify(as);
      return app.inject({ ...rest, headers });
    },
    async close() {
      await app.close();
      await deps.operations.close();
      deps.events.close();
      await db.close();
    },
  };
}
