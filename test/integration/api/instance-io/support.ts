// The API over a real one-member database (db-app.ts) with FakeIoAgents as the members' node
// agents, listening on loopback so websocket clients can connect; `withInstance` inserts an
// instance row the way api-inst will, so the routes find its location.
import { WebSocket } from 'ws';
import { instances } from '../../../../src/state/index.js';
import { dbApp, type DbApp } from '../../../support/api/db-app.js';
import { FakeIoAgent, FakeMemberAgents } from '../../../support/fakes/fake-io-agent.js';
import { anInstance } from '../../../support/state/fixtures.js';

export interface IoApp extends DbApp {
  readonly agent: FakeIoAgent;
  readonly url: string;
  /** Inserts instance `name` on member m1 and tells the fake agent its status. */
  withInstance(name: string, status?: string, over?: Parameters<typeof anInstance>[0]): Promise<void>;
  /** Opens `/1.0/operations/<id>/websocket?secret=…`; resolves once open, rejects with the HTTP status. */
  connect(opId: string, secret: string): Promise<WebSocket>;
}

export async function ioApp(): Promise<IoApp> {
  const agents = new FakeMemberAgents();
  const agent = new FakeIoAgent();
  agents.byMember.set('m1', agent);
  const t = await dbApp({ agents });
  const address = await t.app.listen({ host: '127.0.0.1', port: 0 });
  const open: WebSocket[] = [];
  return {
    ...t,
    agent,
    url: address,
    async withInstance(name, status = 'Running', over = {}) {
      await t.db.store.update((tx) => tx.create(instances, anInstance({ name, location: 'm1', status: 'Running', ...over })));
      agent.status.set(name, status);
    },
    connect(opId, secret) {
      return new Promise((resolve, reject) => {
        const ws = new WebSocket(`${address.replace('http', 'ws')}/1.0/operations/${opId}/websocket?secret=${secret}`);
        open.push(ws);
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode ?? 0}`)));
        ws.once('error', reject);
      });
    },
    async close() {
      for (const ws of open) ws.terminate();
      await t.close();
    },
  };
}

/** Collects a client socket's stream: binary data until the empty text barrier (or close). */
export function readStream(ws: WebSocket): Promise<{ data: string; barrier: boolean }> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    const done = (barrier: boolean): void => resolve({ data: Buffer.concat(parts).toString(), barrier });
    ws.on('message', (d: Buffer, isBinary: boolean) => {
      if (isBinary) parts.push(d);
      else done(true);
    });
    ws.once('close', () => done(false));
  });
}

/** Resolves when the socket is closed (with its close code). */
export function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve(1006);
    else ws.once('close', (code: number) => resolve(code));
  });
}
