/*
 * README.md's configuration-key reference is generated from the registry
 * (scripts/config-keys.ts); this keeps it true when keys are added or changed.
 * Fix a failure with: node --import tsx scripts/config-keys.ts --write
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { CONFIG_KEYS } from '../../../src/state/config/registry.js';
import { withConfigKeys } from '../../../scripts/config-keys.js';

describe('README.md', () => {
  describe('configuration keys', () => {
    it('lists exactly the keys of the registry, as generated', () => {
      const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
      assert.equal(readme, withConfigKeys(readme), 'README.md is stale: run node --import tsx scripts/config-keys.ts --write');
      for (const d of CONFIG_KEYS) assert.ok(readme.includes(`| \`${d.key}\` |`), `README.md lacks ${d.key}`);
    });
  });
});
