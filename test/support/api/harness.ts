// Builds the API over fakes for unit tests: `const t = apiHarness(); after(() => t.close())`.
// Exposes the fakes, a FakeClock, the captured log lines and an inject() that picks the caller.
import { Writable } from 'node:stream';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp, type App } from '../../../src/api/app.js';
import type { Identity } from '../../../src/api/auth.js';
import type { ApiDeps } from '../../../src/api/deps.js';
import { EventHub } from '../../../src/api/events/hub.js';
import { OperationManager } from '../../../src/api/operations/manager.js';
import { createLogger } from '../../../src/shared/index.js';
import { FakeClock } from './fake-clock.js';
import {
  FAKE_IDENTITY_HEADER,
  FakeAuthenticator,
  FakeLeadership,
  FakeMemberDirectory,
  FakeOperationStore,
  FakeServerConfig,
  FakeServerInfo,
  FakeTrustStore,
  FakeTrustTokenStore,
} from './fake-ports.js';

export interface ApiHarness {
  readonly app: App;
  readonly deps: ApiDeps;
  readonly clock: FakeClock;
  readonly info: FakeServerInfo;
  readonly config: FakeServerConfig;
  readonly trust: FakeTrustStore;
  readonly tokens: FakeTrustTokenStore;
  readonly leadership: FakeLeadership;
  readonly members: FakeMemberDirectory;
  readonly store: FakeOperationStore;
  readonly operations: OperationManager;
  readonly events: EventHub;
  /** Parsed JSON log lines. */
  readonly logs: Array<Record<string, unknown>>;
  /** inject() as `as` ('unix', 'untrusted' or an Identity). */
  inject(opts: InjectOptions & { as?: 'unix' | 'untrusted' | Identity }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** A harness; `retentionMs` for operations defaults to 5000. */
export function apiHarness(options: { retentionMs?: number; deps?: Partial<ApiDeps> } = {}): ApiHarness {
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done): void {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const log = createLogger({ level: 'debug', destination: sink });
  const clock = new FakeClock();
  const info = new FakeServerInfo();
  const config = new FakeServerConfig();
  const trust = new FakeTrustStore();
  const tokens = new FakeTrustTokenStore();
  const leadership = new FakeLeadership();
  const members = new FakeMemberDirectory();
  const store = new FakeOperationStore();
  const events = new EventHub({ clock, memberName: () => info.memberName(), log });
  const operations = new OperationManager({
    store,
    events,
    clock,
    log,
    memberName: () => info.memberName(),
    retentionMs: options.retentionMs ?? 5000,
  });
  const deps: ApiDeps = {
    log,
    clock,
    serverInfo: info,
    serverConfig: config,
    trust,
    trustTokens: tokens,
    leadership,
    members,
    operations,
    events,
    ...options.deps,
  };
  const app = buildApp(deps, { authenticator: new FakeAuthenticator() });
  return {
    app,
    deps,
    clock,
    info,
    config,
    trust,
    tokens,
    leadership,
    members,
    store,
    operations,
    events,
    logs,
    inject(opts) {
      const { as, ...rest } = opts;
      const headers = { ...(rest.headers ?? {}) } as Record<string, string>;
      if (as !== undefined) headers[FAKE_IDENTITY_HEADER] = typeof as === 'string' ? as : JSON.stringify(as);
      return app.inject({ ...rest, headers });
    },
    async close() {
      await app.close();
      await operations.close();
      events.close();
    },
  };
}

/** The sync envelope LXD sends around `metadata`. */
export function syncBody(metadata: unknown): Record<string, unknown> {
  return { type: 'sync', status: 'Success', status_code: 200, operation: '', error_code: 0, error: '', metadata };
}

/** The error envelope LXD sends. */
export function errorBody(code: number, error: string): Record<string, unknown> {
  return { type: 'error', status: '', status_code: 0, operation: '', error_code: code, error, metadata: null };
}

/** Resolves after pending setImmediate/microtasks (operations start on a later tick). */
export function settle(): Promise<void> {
  return new Promise((r) => setImmediate(() => setImmediate(r)));
}
