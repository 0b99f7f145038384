/**
 * The image an instance is created from: through the cluster-wide ImageLocator (`deps.images`,
 * src/api/images/locator.ts: resolve + ensureOn, streaming the image between members' agents).
 * An API without one (no agents) resolves from the database here; the image must then already be
 * on the chosen member's agent (its CreateInstance answers NOT_FOUND otherwise).
 */
import { errors } from '../../shared/index.js';
import type { ImageLocator } from '../images/locator.js';
import { imageAliases, images, type ImageRecord, type StateView } from '../../state/index.js';

/** What instance creation needs of images: the ImageLocator. */
export type InstanceImages = ImageLocator;

/**
 * Resolves from the database: an alias, or a fingerprint (a unique prefix accepted), in `project`.
 * NOT_FOUND `Image "x" not found`; INVALID_ARGUMENT for an ambiguous prefix or an empty source.
 */
export function resolveImageFromDb(view: StateView, project: string, source: { alias?: string | undefined; fingerprint?: string | undefined }): ImageRecord {
  if (source.alias) {
    const a = view.get(imageAliases, project, source.alias)?.record;
    const img = a && view.get(images, project, a.target)?.record;
    if (!img) throw errors.notFound(`Image "${source.alias}" not found`);
    return img;
  }
  const fp = source.fingerprint?.toLowerCase();
  if (!fp) throw errors.invalid('Must specify one of alias, fingerprint or properties for init from image');
  const matches = view.list(images, project).filter((s) => s.record.fingerprint.startsWith(fp));
  if (matches.length > 1) throw errors.invalid(`More than one image matches "${fp}"`);
  const img = matches[0]?.record;
  if (!img) throw errors.notFound(`Image "${fp}" not found`);
  return img;
}
