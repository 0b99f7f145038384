/** Projects (LXD Project). `default` always exists. */
import { checkConfig, defineTable } from './define.js';
import { name, obj, str, strMap } from './fields.js';

export interface ProjectRecord {
  readonly name: string;
  readonly description: string;
  readonly config: Readonly<Record<string, string>>;
}

export const projects = defineTable<ProjectRecord, [string]>({
  name: 'projects',
  noun: 'Project',
  arity: 1,
  keyOf: (r) => [r.name],
  describe: ([n]) => `Project "${n}"`,
  check: obj<ProjectRecord>({ name, description: str(), config: strMap }),
  validate: (r) => checkConfig(`project "${r.name}"`, 'project', r.config),
});
