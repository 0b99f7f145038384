// The API over a real one-Raft-node database whose members table lists several members (m1 is the
// database's own; m2, m3… are added as records), with FakeMemberAgents standing in for their node
// agents. For inject tests of the storage, network, metrics and resources routes.
import { members } from '../../../src/state/index.js';
import { FakeMemberAgents } from '../fakes/fake-member-agents.js';
import { dbApp, type DbApp } from './db-app.js';

export interface NetstoreApp extends DbApp {
  readonly agents: FakeMemberAgents;
  /** The database revision (to assert that a refused request wrote nothing). */
  revision(): Promise<number>;
}

/** Opens the app with members `names` (the first must be `m1`, the database's own member). */
export async function netstoreApp(names: readonly string[] = ['m1', 'm2', 'm3']): Promise<NetstoreApp> {
  const agents = new FakeMemberAgents(names);
  const t = await dbApp({ agents });
  const self = (await t.db.store.view()).require(members, 'm1').record;
  await t.db.store.update((tx) => {
    names.forEach((name, i) => {
      if (name !== 'm1') tx.put(members, { ...self, server_name: name, raft_id: i + 1, roles: ['database'], url: `https://127.0.0.1:${8443 + i}` });
    });
  });
  return { ...t, inject: t.inject.bind(t), close: t.close.bind(t), agents, revision: async () => (await t.db.store.view()).revision };
}
