/**
 * Image templates of instance volumes (LXD `templateApplyNow`, same rules as
 * images/template-apply.ts: entries whose `when` lists the trigger are rendered from
 * templates/<file> into rootfs/<path> through safe-path.ts, `create_only` entries are skipped when
 * the file exists), with two savings the service's hot path needs:
 * - a volume's metadata.yaml and template sources are parsed and compiled once, then reused while
 *   metadata.yaml is unchanged (same inode, size and mtime);
 * - between create and the first start the service knows the rootfs is untouched (the instance
 *   never ran and no file call wrote to it), so a file it wrote at create with the same content
 *   is not written again at that start (busybox's /etc/hostname and /etc/hosts are `create` and
 *   `start` templates with the same output).
 * - at create, `render` reads the templates from the image volume the instance volume is being
 *   cloned from (compiled once per image volume), so rendering needs no rootfs and runs while the
 *   copy does; `write` then puts the files in place and keeps the compiled templates for the new
 *   volume as well (it is a copy of the image volume's), so the first start compiles nothing.
 * Callers `forget` an instance whenever its rootfs may have changed (start, file push/delete,
 * snapshot restore, rename, delete). Not safe for concurrent calls on the same instance (the
 * service holds the instance lock).
 */
import { lstat, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { wrap } from '../shared/index.js';
import type { TemplateTrigger } from './images/image-store.js';
import { parseImageMetadata, type ImageMetadata } from './images/metadata.js';
import { compileTemplate, lxdTemplateContext } from './images/templates.js';
import { resolveInRoot, writeFileInRoot } from './safe-path.js';
import type { InstanceRuntime } from './types.js';

/** A volume's parsed metadata.yaml and compiled template sources (`key`: its metadata.yaml's stat). */
export interface Compiled {
  readonly key: string;
  readonly metadata: ImageMetadata;
  readonly render: ReadonlyMap<string, (context: ReturnType<typeof lxdTemplateContext>) => string>;
}

/** Templates rendered for one trigger, ready to be written into an instance's rootfs. */
export interface RenderedTemplates {
  readonly trigger: TemplateTrigger;
  /** Instance path → content, in path order. */
  readonly files: ReadonlyArray<{ readonly path: string; readonly template: string; readonly content: string; readonly createOnly: boolean }>;
  /** What they were rendered from (kept for the instance volume when it is a copy of it). */
  readonly compiled: Compiled;
}

export class InstanceTemplates {
  private readonly compiled = new Map<string, Compiled>();
  /** hostName → instance path → content the service wrote while the rootfs was untouched. */
  private readonly written = new Map<string, Map<string, string>>();

  /** Renders the templates for `trigger` into the instance's rootfs. No metadata.yaml: nothing. */
  async apply(runtime: InstanceRuntime, architecture: string, trigger: TemplateTrigger): Promise<void> {
    const rendered = await this.render(runtime, architecture, trigger);
    if (rendered) await this.write(runtime, rendered);
  }

  /**
   * Renders the templates for `trigger` in memory, from the volume at `source` (default: the
   * instance's own; at create, the image volume it is a copy of). No metadata.yaml: undefined.
   */
  async render(
    runtime: InstanceRuntime,
    architecture: string,
    trigger: TemplateTrigger,
    source = runtime.volumePath,
  ): Promise<RenderedTemplates | undefined> {
    const c = await this.load(source);
    if (!c) return undefined;
    const files: Array<{ path: string; template: string; content: string; createOnly: boolean }> = [];
    for (const path of Object.keys(c.metadata.templates).sort()) {
      const tpl = c.metadata.templates[path];
      const render = c.render.get(tpl?.template ?? '');
      if (!tpl || !render || !tpl.when.includes(trigger)) continue;
      try {
        const content = render(
          lxdTemplateContext({
            name: runtime.spec.name,
            architecture,
            privileged: runtime.idmap === null,
            ephemeral: runtime.spec.ephemeral,
            config: runtime.spec.config,
            devices: runtime.spec.devices,
            properties: tpl.properties,
            path,
            trigger,
          }),
        );
        files.push({ path, template: tpl.template, content, createOnly: tpl.createOnly });
      } catch (err) {
        throw wrap(err, `Failed applying template "${tpl.template}" to "${path}"`);
      }
    }
    return { trigger, files, compiled: c };
  }

  /**
   * Writes rendered templates into the instance's rootfs (`create_only` files that exist are
   * kept). After `create`, the compiled templates are kept for the instance volume too.
   */
  async write(runtime: InstanceRuntime, rendered: RenderedTemplates): Promise<void> {
    const { trigger } = rendered;
    const rootfs = join(runtime.volumePath, 'rootfs');
    // Only a start right after create may skip writes (see the module comment).
    const known = trigger === 'create' ? undefined : this.written.get(runtime.hostName);
    const written = trigger === 'create' ? new Map<string, string>() : undefined;
    const adopt = trigger === 'create' ? this.adopt(runtime.volumePath, rendered.compiled) : undefined;
    adopt?.catch(() => undefined); // awaited below unless a write fails first
    const writeOne = async ({ path, template, content, createOnly }: RenderedTemplates['files'][number]): Promise<void> => {
      try {
        if (createOnly && (await exists(await resolveInRoot(rootfs, path)))) return;
        if (known?.get(path) !== content) await writeFileInRoot(rootfs, path, content, { mode: 0o644 });
        written?.set(path, content);
      } catch (err) {
        throw wrap(err, `Failed applying template "${template}" to "${path}"`);
      }
    };
    // Files side by side, unless one lives under another's path (then in path order).
    const { files } = rendered;
    const nested = files.some((a) => files.some((b) => b !== a && b.path.startsWith(`${a.path}/`)));
    if (nested) {
      for (const f of files) await writeOne(f);
    } else {
      const results = await Promise.allSettled(files.map(writeOne));
      const failed = results.find((x): x is PromiseRejectedResult => x.status === 'rejected');
      if (failed) throw failed.reason;
    }
    await adopt;
    if (written) this.written.set(runtime.hostName, written);
  }

  /** Keeps `c` as the compiled templates of `volumePath`, a fresh copy of the volume `c` came from. */
  private async adopt(volumePath: string, c: Compiled): Promise<void> {
    if (this.compiled.get(volumePath) === c) return;
    const st = await stat(join(volumePath, 'metadata.yaml'));
    this.compiled.set(volumePath, { ...c, key: statKey(st) });
  }

  /** The instance's rootfs may have changed: write everything again next time. */
  forget(hostName: string): void {
    this.written.delete(hostName);
  }

  private async load(volumePath: string): Promise<Compiled | undefined> {
    const file = join(volumePath, 'metadata.yaml');
    let st;
    try {
      st = await stat(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const key = statKey(st);
    const hit = this.compiled.get(volumePath);
    if (hit?.key === key) return hit;
    const metadata = parseImageMetadata(await readFile(file, 'utf8'));
    const render = new Map<string, (context: ReturnType<typeof lxdTemplateContext>) => string>();
    for (const tpl of Object.values(metadata.templates)) {
      if (render.has(tpl.template)) continue;
      try {
        const source = await readFile(await resolveInRoot(join(volumePath, 'templates'), tpl.template), 'utf8');
        render.set(tpl.template, compileTemplate(source, tpl.template));
      } catch (err) {
        throw wrap(err, `Failed loading template "${tpl.template}"`);
      }
    }
    const c: Compiled = { key, metadata, render };
    this.compiled.set(volumePath, c);
    return c;
  }

  /** Drops the compiled templates of a volume (it was deleted or renamed). */
  dropVolume(volumePath: string): void {
    this.compiled.delete(volumePath);
  }
}

function statKey(st: { readonly ino: number; readonly size: number; readonly mtimeMs: number }): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
