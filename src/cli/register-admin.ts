/** Commander definitions of profile, storage, network, project, cluster, remote, operation, query, monitor, alias, completion. */
import { Option, type Command } from 'commander';
import type { CliContext } from './context.js';
import { collect } from './commands/args.js';
import { examples } from './commands/help.js';
import type { ResourceSpec } from './commands/resources.js';
import type { ListFormat } from './format/table.js';
import { formatOption } from './register-instances.js';

type T = { target?: string; format?: ListFormat; description?: string };

function registerResource(program: Command, ctx: () => CliContext, name: string, spec: () => Promise<ResourceSpec>, desc: string, ex: readonly string[], createArgs: 'plain' | 'storage' | 'network'): void {
  const r = () => import('./commands/resources.js');
  const group = examples(program.command(name).description(desc), ex);
  const target = (c: Command): Command => c.option('--target <member>', 'cluster member (member-specific values)');
  examples(target(group.command('list').alias('ls').description(`List ${name}s`).argument('[remote]', 'remote:').addOption(formatOption())), [`shoal ${name} list`, `shoal ${name} list --format yaml`]).action(
    async (remote: string | undefined, o: T) => (await r()).resourceList(ctx(), await spec(), remote, o),
  );
  examples(target(group.command('show').description('Show as YAML').argument('<name>')), [`shoal ${name} show default`]).action(async (n: string, o: T) => (await r()).resourceShow(ctx(), await spec(), n, o));
  const create = target(group.command('create').description(`Create a ${name}`).argument('<name>'));
  if (createArgs === 'storage') {
    examples(create.argument('<driver>', 'dir or btrfs').argument('[kv...]', 'key=value').option('--description <text>'), ['shoal storage create pool1 dir', 'shoal storage create pool1 dir source=/srv/pool1 --target m1']).action(
      async (n: string, driver: string, kvs: string[], o: T) => (await r()).resourceCreate(ctx(), await spec(), n, kvs, o, { driver }),
    );
  } else if (createArgs === 'network') {
    examples(create.argument('[kv...]', 'key=value').option('--type <type>', 'network type', 'bridge').option('--description <text>'), ['shoal network create shoalbr1 ipv4.address=10.50.0.1/24', 'shoal network create shoalbr1 --target m1']).action(
      async (n: string, kvs: string[], o: T & { type: string }) => (await r()).resourceCreate(ctx(), await spec(), n, kvs, o, { type: o.type }),
    );
  } else {
    examples(create.argument('[kv...]', 'key=value').option('--description <text>'), [`shoal ${name} create p1`, `shoal ${name} create p1 limits.cpu=1`]).action(
      async (n: string, kvs: string[], o: T) => (await r()).resourceCreate(ctx(), await spec(), n, kvs, o),
    );
  }
  examples(group.command('delete').alias('rm').description(`Delete a ${name}`).argument('<name>'), [`shoal ${name} delete p1`]).action(async (n: string) => (await r()).resourceDelete(ctx(), await spec(), n));
  examples(target(group.command('get').description('Get a configuration key').argument('<name>').argument('<key>')), [`shoal ${name} get p1 limits.cpu`]).action(
    async (n: string, k: string, o: T) => (await r()).resourceGet(ctx(), await spec(), n, k, o),
  );
  examples(target(group.command('set').description('Set configuration keys').argument('<name>').argument('<kv...>', 'KEY=VALUE...')), [`shoal ${name} set p1 limits.cpu=2`]).action(
    async (n: string, kvs: string[], o: T) => (await r()).resourceSet(ctx(), await spec(), n, kvs, o),
  );
  examples(target(group.command('unset').description('Unset a configuration key').argument('<name>').argument('<key>')), [`shoal ${name} unset p1 limits.cpu`]).action(
    async (n: string, k: string, o: T) => (await r()).resourceUnset(ctx(), await spec(), n, k, o),
  );
  examples(target(group.command('edit').description('Edit as YAML ($EDITOR, or stdin when piped)').argument('<name>')), [`shoal ${name} edit p1`, `shoal ${name} show p1 > p1.yaml; shoal ${name} edit p1 < p1.yaml`]).action(
    async (n: string, o: T) => (await r()).resourceEdit(ctx(), await spec(), n, o),
  );
  examples(group.command('rename').alias('mv').description(`Rename a ${name}`).argument('<name>').argument('<new-name>'), [`shoal ${name} rename p1 p2`]).action(
    async (n: string, nn: string) => (await r()).resourceRename(ctx(), await spec(), n, nn),
  );
}

/** Registers the verbs above. */
export function registerAdminCommands(program: Command, ctx: () => CliContext): void {
  const spec = (k: 'PROFILE' | 'STORAGE' | 'NETWORK' | 'PROJECT') => async () => (await import('./commands/resources.js'))[k];
  registerResource(program, ctx, 'profile', spec('PROFILE'), 'Manage profiles', ['shoal profile list', 'shoal profile create small limits.memory=128MiB', 'shoal launch busybox web1 -p default -p small'], 'plain');
  registerResource(program, ctx, 'storage', spec('STORAGE'), 'Manage storage pools', ['shoal storage list', 'shoal storage create fast btrfs --target m1', 'shoal storage create fast btrfs'], 'storage');
  registerResource(program, ctx, 'network', spec('NETWORK'), 'Manage networks', ['shoal network list', 'shoal network create br1 ipv4.address=10.60.0.1/24'], 'network');
  registerResource(program, ctx, 'project', spec('PROJECT'), 'Manage projects', ['shoal project list', 'shoal project create dev', 'shoal list --project dev'], 'plain');

  const cl = () => import('./commands/cluster.js');
  const cluster = examples(program.command('cluster').description('Manage cluster members and join tokens'), ['shoal cluster list', 'shoal cluster add m4', 'shoal cluster list-tokens', 'shoal cluster remove m4']);
  examples(cluster.command('list').alias('ls').description('List members').argument('[remote]', 'remote:').addOption(formatOption()), ['shoal cluster list', 'shoal cluster list --format csv']).action(
    async (r: string | undefined, o: { format: ListFormat }) => (await cl()).clusterList(ctx(), r, o),
  );
  examples(cluster.command('show').description('Show a member as YAML').argument('<member>'), ['shoal cluster show m1']).action(async (m: string) => (await cl()).clusterShow(ctx(), m));
  examples(cluster.command('add').description('Issue a join token for a new member').argument('<member>'), ['shoal cluster add m4   # then on m4: shoald init --join <token> ...']).action(async (m: string) => (await cl()).clusterAdd(ctx(), m));
  examples(cluster.command('list-tokens').description('List unused join tokens').argument('[remote]').addOption(formatOption()), ['shoal cluster list-tokens']).action(
    async (r: string | undefined, o: { format: ListFormat }) => (await cl()).clusterListTokens(ctx(), r, o),
  );
  examples(cluster.command('revoke-token').description("Revoke a member's join token").argument('<member>'), ['shoal cluster revoke-token m4']).action(async (m: string) => (await cl()).clusterRevokeToken(ctx(), m));
  examples(cluster.command('remove').alias('rm').description('Remove a member').argument('<member>').option('--force', 'remove the database records even if the member is unreachable'), ['shoal cluster remove m4']).action(
    async (m: string, o: { force?: boolean }) => (await cl()).clusterRemove(ctx(), m, o),
  );
  examples(cluster.command('evacuate').description("Move a member's instances away").argument('<member>').option('--action <mode>', 'stop, migrate'), ['shoal cluster evacuate m2']).action(
    async (m: string, o: { action?: string }) => (await cl()).clusterState(ctx(), m, 'evacuate', o.action),
  );
  examples(cluster.command('restore').description('Bring an evacuated member back').argument('<member>'), ['shoal cluster restore m2']).action(async (m: string) => (await cl()).clusterState(ctx(), m, 'restore', undefined));
  examples(cluster.command('set').description('Set a member configuration key').argument('<member>').argument('<key>').argument('<value>'), ['shoal cluster set m2 scheduler.instance manual']).action(
    async (m: string, k: string, v: string) => (await cl()).clusterSet(ctx(), m, k, v),
  );
  examples(cluster.command('unset').description('Unset a member configuration key').argument('<member>').argument('<key>'), ['shoal cluster unset m2 scheduler.instance']).action(
    async (m: string, k: string) => (await cl()).clusterSet(ctx(), m, k, null),
  );

  const rm = () => import('./commands/remotes.js');
  const remote = examples(program.command('remote').description('Manage remote servers'), ['shoal remote add prod <trust-token>', 'shoal remote list', 'shoal remote switch prod', 'shoal list prod:']);
  examples(
    remote.command('add').description('Add a remote with a trust token (from `lxc config trust add` / POST /1.0/certificates {token: true})').argument('<name>').argument('<token-or-address>').option('--token <token>', 'trust token, when an address is given').option('--accept-certificate', 'accept the server certificate without a token fingerprint').option('--project <project>', 'default project on this remote'),
    ['shoal remote add prod eyJjbGllbnRfbmFtZSI6...', 'shoal remote add prod 10.0.0.1:8443 --token eyJ...'],
  ).action(async (n: string, t: string, o: { token?: string; acceptCertificate?: boolean; project?: string }) => (await rm()).remoteAdd(ctx(), n, t, o));
  examples(remote.command('list').alias('ls').description('List remotes').addOption(formatOption()), ['shoal remote list']).action(async (o: { format: ListFormat }) => (await rm()).remoteList(ctx(), o));
  examples(remote.command('remove').alias('rm').description('Remove a remote').argument('<name>'), ['shoal remote remove prod']).action(async (n: string) => (await rm()).remoteRemove(ctx(), n));
  examples(remote.command('rename').alias('mv').description('Rename a remote').argument('<name>').argument('<new-name>'), ['shoal remote rename prod production']).action(async (n: string, nn: string) => (await rm()).remoteRename(ctx(), n, nn));
  examples(remote.command('switch').description('Set the default remote').argument('<name>'), ['shoal remote switch prod']).action(async (n: string) => (await rm()).remoteSwitch(ctx(), n));
  examples(remote.command('get-default').description('Print the default remote'), ['shoal remote get-default']).action(async () => (await rm()).remoteGetDefault(ctx()));

  const op = () => import('./commands/operations.js');
  const operation = examples(program.command('operation').description('List, show and cancel background operations'), ['shoal operation list', 'shoal operation delete <id>']);
  examples(operation.command('list').alias('ls').description('List operations').argument('[remote]').option('--all-projects').addOption(formatOption()), ['shoal operation list']).action(
    async (r: string | undefined, o: { format: ListFormat; allProjects?: boolean }) => (await op()).operationList(ctx(), r, o),
  );
  examples(operation.command('show').description('Show an operation').argument('<id>'), ['shoal operation show 5f0c...']).action(async (id: string) => (await op()).operationShow(ctx(), id));
  examples(operation.command('delete').alias('rm').description('Cancel an operation').argument('<id>'), ['shoal operation delete 5f0c...']).action(async (id: string) => (await op()).operationDelete(ctx(), id));

  examples(
    program.command('query').description('Send a raw REST request and print the answer (JSON)').argument('<path>', '[remote:]/1.0/...').option('-X, --request <method>', 'HTTP method', 'GET').option('-d, --data <json>', 'request body (- for stdin)').option('--wait', 'wait for the operation and print its metadata').option('--raw', 'print the whole envelope'),
    ['shoal query /1.0', 'shoal query /1.0/instances?recursion=1', "shoal query -X PATCH -d '{\"config\":{\"user.a\":\"b\"}}' /1.0"],
  ).action(async (p: string, o: { request: string; data?: string; wait?: boolean; raw?: boolean }) => (await op()).query(ctx(), p, o));
  examples(
    program.command('monitor').description('Print events as they happen').argument('[remote]').option('--type <type>', 'event type: operation, logging, lifecycle (repeatable)', collect).option('--all-projects').option('--count <n>', 'stop after n events').addOption(new Option('-f, --format <format>').choices(['yaml', 'json']).default('yaml')),
    ['shoal monitor --type lifecycle', 'shoal monitor --format json --count 10'],
  ).action(async (r: string | undefined, o: { type?: string[]; format: 'json' | 'yaml'; allProjects?: boolean; count?: string }) => (await op()).monitor(ctx(), r, o));

  const al = () => import('./commands/aliases.js');
  const alias = examples(program.command('alias').description('Manage command aliases (@ARGS@ marks where arguments go)'), ['shoal alias add ls "list -c ns"', 'shoal alias add login "exec @ARGS@ -- sh"', 'shoal login web1']);
  examples(alias.command('add').description('Add an alias').argument('<alias>').argument('<target>'), ['shoal alias add ls "list -c ns"']).action(async (a: string, t: string) => (await al()).aliasAdd(ctx(), a, t));
  examples(alias.command('remove').alias('rm').description('Remove an alias').argument('<alias>'), ['shoal alias remove ls']).action(async (a: string) => (await al()).aliasRemove(ctx(), a));
  examples(alias.command('rename').alias('mv').description('Rename an alias').argument('<alias>').argument('<new-name>'), ['shoal alias rename ls l']).action(async (a: string, n: string) => (await al()).aliasRename(ctx(), a, n));
  examples(alias.command('list').alias('ls').description('List aliases').addOption(formatOption()), ['shoal alias list']).action(async (o: { format: ListFormat }) => (await al()).aliasList(ctx(), o));

  examples(program.command('completion').description('Print a shell completion script').argument('[shell]', 'bash', 'bash'), ['source <(shoal completion bash)']).action(async (shell: string) => {
    if (shell !== 'bash') throw new (await import('../shared/errors.js')).ShoalError('INVALID_ARGUMENT', `Unsupported shell "${shell}" (supported: bash)`);
    ctx().out((await import('./completion.js')).bashCompletion(program));
  });
}
