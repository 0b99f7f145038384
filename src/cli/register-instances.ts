/** Commander definitions of the instance verbs (implementations in commands/). */
import { Option, type Command } from 'commander';
import type { CliContext } from './context.js';
import { collect } from './commands/args.js';
import { examples } from './commands/help.js';
import { LIST_FORMATS, type ListFormat } from './format/table.js';

/** `--format` with lxc's choices. */
export function formatOption(def: ListFormat = 'table'): Option {
  return new Option('-f, --format <format>', 'output format').choices([...LIST_FORMATS]).default(def);
}

/** Registers init, launch, start, stop, restart, pause, delete, rename, move, list, info. */
export function registerInstanceCommands(program: Command, ctx: () => CliContext): void {
  const createFlags = (c: Command): Command =>
    c
      .option('--target <member>', 'cluster member to create the instance on (@group for a cluster group)')
      .option('-p, --profile <profile>', 'profile to apply (repeatable)', collect)
      .option('-n, --no-profiles', 'create the instance with no profiles')
      .option('-c, --config <key=value>', 'config key/value to apply (repeatable)', collect)
      .option('-d, --device <name,key=value,...>', 'device to add or override (repeatable)', collect)
      .option('-e, --ephemeral', 'ephemeral instance (deleted when stopped)')
      .option('-s, --storage <pool>', 'storage pool for the root disk')
      .option('--network <network>', 'network for eth0')
      .option('--description <text>', 'instance description')
      .option('--empty', 'create an empty instance (no image)')
      .option('--dry-run', 'show the member the scheduler would choose and why; create nothing');
  type CreateCli = { target?: string; profile?: string[]; profiles: boolean; config?: string[]; device?: string[]; ephemeral?: boolean; storage?: string; network?: string; description?: string; empty?: boolean; dryRun?: boolean };
  const createOpts = (o: CreateCli) => ({ ...o, noProfiles: o.profiles === false });

  examples(
    createFlags(program.command('init').description('Create instances from images').argument('[image]').argument('[name]')),
    ['shoal init busybox web1', 'shoal init busybox web1 --target m2 -c limits.memory=256MiB', 'shoal init --empty scratch'],
  ).action(async (image: string | undefined, name: string | undefined, o: CreateCli) => {
    const { createInstance } = await import('./commands/instances.js');
    await createInstance(ctx(), o.empty ? undefined : image, o.empty ? (name ?? image) : name, createOpts(o));
  });

  examples(
    createFlags(program.command('launch').description('Create and start instances from images').argument('<image>').argument('[name]')),
    ['shoal launch busybox web1', 'shoal launch busybox web1 --target m2', 'shoal launch busybox db -p default -c limits.cpu=2', 'shoal launch busybox db -c limits.memory=4GiB --dry-run'],
  ).action(async (image: string, name: string | undefined, o: CreateCli) => {
    const { createInstance, changeState } = await import('./commands/instances.js');
    const c = ctx();
    const created = await createInstance(c, image, name, createOpts(o));
    if (created.dryRun) return;
    c.say(`Starting ${created.name}`);
    await changeState(c, `${created.remote}:${created.name}`, { action: 'start', timeout: -1 });
  });

  examples(program.command('start').description('Start instances').argument('<names...>'), ['shoal start web1 web2']).action(
    async (names: string[]) => (await import('./commands/instances.js')).start(ctx(), names),
  );

  const stopFlags = (c: Command): Command =>
    c.option('-f, --force', 'force the instance to stop (kill)').option('--timeout <seconds>', 'time to wait for a clean shutdown (-1: forever)');
  examples(stopFlags(program.command('stop').description('Stop instances').argument('<names...>')), ['shoal stop web1', 'shoal stop -f web1 web2']).action(
    async (names: string[], o: { force?: boolean; timeout?: string }) => (await import('./commands/instances.js')).stop(ctx(), names, o),
  );
  examples(stopFlags(program.command('restart').description('Restart instances').argument('<names...>')), ['shoal restart web1']).action(
    async (names: string[], o: { force?: boolean; timeout?: string }) => (await import('./commands/instances.js')).restart(ctx(), names, o),
  );
  examples(program.command('pause').alias('freeze').description('Pause (freeze) instances').argument('<names...>'), ['shoal pause web1']).action(
    async (names: string[]) => (await import('./commands/instances.js')).pause(ctx(), names),
  );
  examples(
    program.command('delete').alias('rm').description('Delete instances').argument('<names...>').option('-f, --force', 'stop running instances first'),
    ['shoal delete web1', 'shoal delete -f web1 web2'],
  ).action(async (names: string[], o: { force?: boolean }) => (await import('./commands/instances.js')).remove(ctx(), names, o));

  examples(program.command('rename').description('Rename an instance').argument('<name>').argument('<new-name>'), ['shoal rename web1 web2']).action(
    async (from: string, to: string) => (await import('./commands/instances.js')).rename(ctx(), from, to),
  );

  examples(
    program
      .command('list')
      .alias('ls')
      .description('List instances')
      .argument('[filters...]', 'name regex or key=value (status=running, location=m1, config keys)')
      .option('-c, --columns <letters>', 'columns: n name, s state, 4 IPv4, 6 IPv6, t type, S snapshots, L location, a arch, c created, l last used, d description, p PID, P profiles, m memory, u CPU, f base image')
      .option('--all-projects', 'list instances of every project')
      .addOption(formatOption()),
    ['shoal list', 'shoal list web status=running', 'shoal list -c nsL --format csv', 'shoal list prod: --format json'],
  ).action(async (filters: string[], o: { columns?: string; format: ListFormat; allProjects?: boolean }) =>
    (await import('./commands/list.js')).listInstances(ctx(), filters, o),
  );

  examples(
    program.command('info').description('Show instance or server information').argument('[name]').option('--target <member>', 'member whose server information to show'),
    ['shoal info web1', 'shoal info', 'shoal info --target m2'],
  ).action(async (name: string | undefined, o: { target?: string }) => (await import('./commands/info.js')).info(ctx(), name, o));
}
