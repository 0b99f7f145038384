/**
 * Applies an instance volume's image templates (LXD `templateApplyNow`): for the given trigger,
 * each `templates:` entry of the volume's metadata.yaml whose `when` lists it is rendered from
 * templates/<file> into rootfs/<path>, skipping `create_only` entries whose file exists. Writes go
 * through safe-path.ts, so a symlink planted in the rootfs can never redirect them to the host.
 */
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { wrap } from '../../shared/index.js';
import { resolveInRoot, writeFileInRoot } from '../safe-path.js';
import type { TemplateTrigger } from './image-store.js';
import { parseImageMetadata } from './metadata.js';
import { compileTemplate, lxdTemplateContext } from './templates.js';

/** What {@link applyTemplates} needs to know about the instance. */
export interface ApplyTemplatesInput {
  /** The instance volume (holding metadata.yaml, templates/ and rootfs/). */
  readonly volumePath: string;
  readonly trigger: TemplateTrigger;
  readonly name: string;
  readonly architecture: string;
  readonly privileged: boolean;
  readonly ephemeral: boolean;
  readonly config: Readonly<Record<string, string>>;
  readonly devices: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Host uid/gid that new files get: the instance's root as seen from the host (0 with idmapped rootfs). */
  readonly rootUid?: number;
  readonly rootGid?: number;
}

/** Renders the templates for `trigger`; returns the instance paths written. No metadata.yaml → nothing. */
export async function applyTemplates(input: ApplyTemplatesInput): Promise<readonly string[]> {
  let text: string;
  try {
    text = await readFile(join(input.volumePath, 'metadata.yaml'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const metadata = parseImageMetadata(text);
  const rootfs = join(input.volumePath, 'rootfs');
  const templatesDir = join(input.volumePath, 'templates');
  const written: string[] = [];
  for (const path of Object.keys(metadata.templates).sort()) {
    const tpl = metadata.templates[path];
    if (!tpl || !tpl.when.includes(input.trigger)) continue;
    try {
      if (tpl.createOnly && (await exists(await resolveInRoot(rootfs, path)))) continue;
      const source = await readFile(await resolveInRoot(templatesDir, tpl.template), 'utf8');
      const rendered = compileTemplate(source, tpl.template)(
        lxdTemplateContext({
          name: input.name,
          architecture: input.architecture,
          privileged: input.privileged,
          ephemeral: input.ephemeral,
          config: input.config,
          devices: input.devices,
          properties: tpl.properties,
          path,
          trigger: input.trigger,
        }),
      );
      await writeFileInRoot(rootfs, path, rendered, {
        mode: 0o644,
        ...(input.rootUid === undefined ? {} : { uid: input.rootUid }),
        ...(input.rootGid === undefined ? {} : { gid: input.rootGid }),
      });
      written.push(path);
    } catch (err) {
      throw wrap(err, `Failed applying template "${tpl.template}" to "${path}"`);
    }
  }
  return written;
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
