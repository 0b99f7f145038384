/** Commander definitions of config, exec, file, snapshot/restore, copy/move and image. */
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { collect } from './commands/args.js';
import { examples } from './commands/help.js';
import type { ListFormat } from './format/table.js';
import { formatOption } from './register-instances.js';

type T = { target?: string };

/** Registers the verbs above. */
export function registerMoreCommands(program: Command, ctx: () => CliContext): void {
  const config = examples(program.command('config').description('Manage instance and server configuration'), [
    'shoal config set web1 limits.memory=256MiB',
    'shoal config get web1 limits.memory',
    'shoal config unset web1 limits.memory',
    'shoal config show web1 --expanded',
    'shoal config edit web1 < web1.yaml',
    'shoal config set core.https_address=:8443 --target m1',
    'shoal config device add web1 data disk source=/srv path=/data',
  ]);
  const cfg = () => import('./commands/config.js');
  examples(config.command('get').description('Get a configuration key').argument('<args...>', '[NAME] KEY').option('--target <member>', 'member (server keys)').option('-e, --expanded', 'include profile values'), ['shoal config get web1 limits.cpu', 'shoal config get core.https_address']).action(
    async (args: string[], o: T & { expanded?: boolean }) => (await cfg()).configGet(ctx(), args, o),
  );
  examples(config.command('set').description('Set configuration keys').argument('<args...>', '[NAME] KEY=VALUE...').option('--target <member>', 'member (server keys)'), ['shoal config set web1 limits.cpu=2 user.role=web', 'shoal config set cluster.offline_threshold=30']).action(
    async (args: string[], o: T) => (await cfg()).configSet(ctx(), args, o),
  );
  examples(config.command('unset').description('Unset a configuration key').argument('<args...>', '[NAME] KEY').option('--target <member>', 'member (server keys)'), ['shoal config unset web1 limits.cpu']).action(
    async (args: string[], o: T) => (await cfg()).configUnset(ctx(), args, o),
  );
  examples(config.command('show').description('Show the configuration as YAML').argument('[name]').option('-e, --expanded', 'with profile values applied').option('--target <member>', 'member (server config)'), ['shoal config show web1', 'shoal config show']).action(
    async (name: string | undefined, o: T & { expanded?: boolean }) => (await cfg()).configShow(ctx(), name, o),
  );
  examples(config.command('edit').description('Edit the configuration as YAML ($EDITOR, or stdin when piped)').argument('[name]').option('--target <member>', 'member (server config)'), ['shoal config edit web1', 'shoal config show web1 | sed s/256/512/ | shoal config edit web1']).action(
    async (name: string | undefined, o: T) => (await cfg()).configEdit(ctx(), name, o),
  );
  const device = examples(config.command('device').description('Manage instance devices'), ['shoal config device add web1 eth1 nic network=shoalbr0', 'shoal config device remove web1 eth1', 'shoal config device list web1']);
  examples(device.command('add').description('Add a device').argument('<name>').argument('<device>').argument('<type>').argument('[kv...]', 'key=value'), ['shoal config device add web1 data disk source=/srv path=/data']).action(
    async (name: string, dev: string, type: string, kvs: string[]) => (await cfg()).deviceAdd(ctx(), name, dev, type, kvs),
  );
  examples(device.command('remove').alias('rm').description('Remove devices').argument('<name>').argument('<devices...>'), ['shoal config device remove web1 data']).action(
    async (name: string, devs: string[]) => (await cfg()).deviceRemove(ctx(), name, devs),
  );
  examples(device.command('list').description('List devices').argument('<name>'), ['shoal config device list web1']).action(async (name: string) => (await cfg()).deviceList(ctx(), name));
  examples(device.command('show').description('Show devices as YAML').argument('<name>'), ['shoal config device show web1']).action(async (name: string) => (await cfg()).deviceShow(ctx(), name));

  const trust = examples(config.command('trust').description('Manage trusted client certificates'), ['shoal config trust add laptop', 'shoal config trust list', 'shoal config trust remove 1a2b3c']);
  const tr = () => import('./commands/trust.js');
  examples(trust.command('add').description('Issue a trust token for a new client (use it with `shoal remote add`)').argument('<name>').option('--projects <list>', 'restrict the client to these projects (comma-separated)').option('--restricted', 'restrict the client'), ['shoal config trust add laptop', 'shoal config trust add ci --projects dev']).action(
    async (n: string, o: { projects?: string; restricted?: boolean }) => (await tr()).trustAdd(ctx(), n, o),
  );
  examples(trust.command('list').alias('ls').description('List trusted certificates').argument('[remote]').addOption(formatOption()), ['shoal config trust list']).action(
    async (r: string | undefined, o: { format: ListFormat }) => (await tr()).trustList(ctx(), r, o),
  );
  examples(trust.command('remove').alias('rm').description('Remove a trusted certificate').argument('<fingerprint>'), ['shoal config trust remove 1a2b3c']).action(async (f: string) => (await tr()).trustRemove(ctx(), f));

  examples(
    program
      .command('exec')
      .description('Run a command in an instance (exit code is the command\'s)')
      .argument('<name>')
      .argument('<command...>')
      .option('--env <key=value>', 'environment variable (repeatable)', collect)
      .option('--cwd <dir>', 'working directory')
      .option('--user <uid>', 'user ID to run as')
      .option('--group <gid>', 'group ID to run as')
      .option('-t, --force-interactive', 'force a pseudo-terminal')
      .option('-T, --force-noninteractive', 'never use a pseudo-terminal'),
    ['shoal exec web1 -- ip addr', 'shoal exec web1 -- sh', 'echo hi | shoal exec web1 -T -- cat'],
  ).action(async (name: string, command: string[], o: { env?: string[]; cwd?: string; user?: string; group?: string; forceInteractive?: boolean; forceNoninteractive?: boolean }) => {
    const forceInteractive = o.forceInteractive ? true : o.forceNoninteractive ? false : undefined;
    await (await import('./commands/exec.js')).exec(ctx(), name, command, { env: o.env, cwd: o.cwd, user: o.user, group: o.group, forceInteractive });
  });

  const file = examples(program.command('file').description('Manage files in instances'), ['shoal file push ./motd web1/etc/motd', 'shoal file pull web1/etc/hostname -']);
  examples(file.command('pull').description('Copy a file out of an instance').argument('<source>', 'NAME/path').argument('<dest>', 'local path, or - for stdout'), ['shoal file pull web1/etc/hostname .']).action(
    async (s: string, d: string) => (await import('./commands/files.js')).filePull(ctx(), s, d),
  );
  examples(file.command('push').description('Copy a file into an instance').argument('<source>').argument('<dest>', 'NAME/path').option('--uid <uid>').option('--gid <gid>').option('--mode <octal>'), ['shoal file push ./app.conf web1/etc/app.conf --mode 0600']).action(
    async (s: string, d: string, o: { uid?: string; gid?: string; mode?: string }) => (await import('./commands/files.js')).filePush(ctx(), s, d, o),
  );

  examples(program.command('snapshot').description('Snapshot an instance').argument('<name>').argument('[snapshot]').option('--stateful', 'include the running state'), ['shoal snapshot web1', 'shoal snapshot web1 before-upgrade', 'shoal delete web1/before-upgrade']).action(
    async (name: string, snap: string | undefined, o: { stateful?: boolean }) => (await import('./commands/snapshots.js')).snapshot(ctx(), name, snap, o),
  );
  examples(program.command('restore').description('Restore an instance from a snapshot').argument('<name>').argument('<snapshot>'), ['shoal restore web1 before-upgrade']).action(
    async (name: string, snap: string) => (await import('./commands/snapshots.js')).restore(ctx(), name, snap),
  );
  examples(program.command('copy').alias('cp').description('Copy an instance or snapshot').argument('<source>').argument('<dest>').option('--target <member>', 'member for the copy').option('--instance-only', 'leave snapshots out'), ['shoal copy web1 web2', 'shoal copy web1/snap0 web3 --target m3']).action(
    async (s: string, d: string, o: T & { instanceOnly?: boolean }) => (await import('./commands/snapshots.js')).copy(ctx(), s, d, o),
  );
  examples(program.command('move').alias('mv').description('Rename an instance or move it to another member').argument('<source>').argument('[dest]').option('--target <member>', 'member to move it to').option('--instance-only', 'leave snapshots out'), ['shoal move web1 web2', 'shoal move web1 --target m3']).action(
    async (s: string, d: string | undefined, o: T & { instanceOnly?: boolean }) => (await import('./commands/snapshots.js')).move(ctx(), s, d, o),
  );

  const image = examples(program.command('image').description('Manage images'), ['shoal image build busybox', 'shoal image list', 'shoal image import ./busybox.tar.gz --alias bb', 'shoal image alias create web busybox']);
  const img = () => import('./commands/images.js');
  examples(image.command('list').alias('ls').description('List images').argument('[filters...]').addOption(formatOption()), ['shoal image list', 'shoal image list --format json']).action(
    async (f: string[], o: { format: ListFormat }) => (await img()).imageList(ctx(), f, o),
  );
  examples(image.command('show').alias('info').description('Show an image as YAML').argument('<image>', 'alias or fingerprint prefix'), ['shoal image show busybox']).action(async (i: string) => (await img()).imageShow(ctx(), i));
  examples(image.command('delete').alias('rm').description('Delete images').argument('<images...>'), ['shoal image delete busybox']).action(async (i: string[]) => (await img()).imageDelete(ctx(), i));
  examples(image.command('import').description('Import a unified image tarball (progress shown)').argument('<tarball>').argument('[remote]', 'remote:').option('--alias <alias>', 'alias for the image (repeatable)', collect).option('--public', 'make the image public'), ['shoal image import ./busybox.tar.gz --alias bb']).action(
    async (file: string, remote: string | undefined, o: { alias?: string[]; public?: boolean }) => (await img()).imageImport(ctx(), file, remote, o),
  );
  examples(image.command('build').description('Build an image on the server (recipes: busybox)').argument('<recipe>').argument('[remote]', 'remote:').option('--alias <alias>', 'alias (default: the recipe name; repeatable)', collect).option('--target <member>', 'member that builds it'), ['shoal image build busybox', 'shoal image build busybox --alias bb']).action(
    async (kind: string, remote: string | undefined, o: T & { alias?: string[] }) => (await img()).imageBuild(ctx(), kind, remote, o),
  );
  const alias = examples(image.command('alias').description('Manage image aliases'), ['shoal image alias create web busybox', 'shoal image alias list']);
  examples(alias.command('create').description('Create an alias').argument('<alias>').argument('<image>').option('--description <text>'), ['shoal image alias create web 1a2b3c']).action(
    async (a: string, i: string, o: { description?: string }) => (await img()).aliasCreate(ctx(), a, i, o.description),
  );
  examples(alias.command('delete').alias('rm').description('Delete an alias').argument('<alias>'), ['shoal image alias delete web']).action(async (a: string) => (await img()).aliasDelete(ctx(), a));
  examples(alias.command('rename').alias('mv').description('Rename an alias').argument('<alias>').argument('<new-name>'), ['shoal image alias rename web www']).action(
    async (a: string, n: string) => (await img()).aliasRename(ctx(), a, n),
  );
  examples(alias.command('list').alias('ls').description('List aliases').argument('[remote]').addOption(formatOption()), ['shoal image alias list']).action(
    async (r: string | undefined, o: { format: ListFormat }) => (await img()).aliasList(ctx(), r, o),
  );
}
