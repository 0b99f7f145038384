/*
 * Runs every raft interaction transcript in test/testdata/raft/ (etcd interaction_test.go):
 * each file drives an InteractionEnv through datadriven commands and compares the output.
 * REWRITE=1 rewrites the expected outputs (review the diff before committing).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runDataDrivenFile } from '../../../support/datadriven.js';
import { InteractionEnv } from '../../../support/raft/interaction-env.js';
import { handle } from '../../../support/raft/interaction-handlers.js';

const dir = join(import.meta.dirname, '../../../testdata/raft');

describe('src/raft/core', () => {
  describe('interaction transcripts', () => {
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.txt'))
      .sort()) {
      it(`replays ${file}`, () => {
        const env = new InteractionEnv();
        runDataDrivenFile(join(dir, file), (d) => handle(env, d));
      });
    }
  });
});
