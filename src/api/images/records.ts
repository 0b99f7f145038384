/**
 * Image records ↔ LXD wire shapes: the `Image` object (aliases joined in, zero times for
 * "never"), its ETag view, URLs with `?project=`, and the X-LXD-* upload headers.
 */
import { errors } from '../../shared/index.js';
import { imageAliases, type ImageAliasRecord, type ImageRecord, type StateView, type WriteTx } from '../../state/index.js';
import { ZERO_TIME, type Image, type ImageAliasesEntry } from '../types/index.js';

/** `/1.0/images/<fp>` with `?project=` outside the default project (LXD's URL form). */
export function imageUrl(project: string, fingerprint: string, suffix = ''): string {
  return `/1.0/images/${fingerprint}${suffix}${project === 'default' ? '' : `?project=${encodeURIComponent(project)}`}`;
}

/** `/1.0/images/aliases/<name>` with `?project=` outside the default project. */
export function aliasUrl(project: string, name: string): string {
  return `/1.0/images/aliases/${encodeURIComponent(name)}${project === 'default' ? '' : `?project=${encodeURIComponent(project)}`}`;
}

/** The image as LXD renders it; `aliases` are those of its project pointing at it. */
export function imageToApi(view: StateView | WriteTx, r: ImageRecord): Image {
  const aliases = view
    .list(imageAliases, r.project)
    .filter((a) => a.record.target === r.fingerprint)
    .map((a) => ({ name: a.record.name, description: a.record.description }));
  return {
    auto_update: r.auto_update,
    properties: { ...r.properties },
    public: r.public,
    expires_at: r.expires_at ?? ZERO_TIME,
    profiles: [...r.profiles],
    aliases,
    architecture: r.architecture,
    cached: r.cached,
    filename: r.filename,
    fingerprint: r.fingerprint,
    size: r.size,
    type: r.type,
    created_at: r.created_at,
    last_used_at: r.last_used_at ?? ZERO_TIME,
    uploaded_at: r.uploaded_at,
  };
}

/** The editable part of an image: what its ETag covers (LXD ImagePut: auto_update, properties, public, expires_at, profiles). */
export function imageEtagView(r: ImageRecord): unknown {
  return { auto_update: r.auto_update, properties: r.properties, public: r.public, expires_at: r.expires_at ?? ZERO_TIME, profiles: r.profiles };
}

/** An alias as LXD renders it. */
export function aliasToApi(a: ImageAliasRecord): ImageAliasesEntry {
  return { name: a.name, description: a.description, target: a.target, type: a.type };
}

/** The editable part of an alias (LXD: description and target). */
export function aliasEtagView(a: ImageAliasRecord): unknown {
  return { description: a.description, target: a.target };
}

/** `expires_at` from the wire: the zero time and '' mean never. */
export function expiryFromApi(v: string | undefined): string | null {
  if (v === undefined || v === '' || v === ZERO_TIME || v.startsWith('0001-01-01')) return null;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw errors.invalid(`Invalid expires_at "${v}"`);
  return new Date(t).toISOString();
}

/** What the X-LXD-* headers of an upload say (LXD imagesPost / getImgPostInfo). */
export interface UploadHeaders {
  readonly fingerprint: string;
  readonly filename: string;
  readonly public: boolean;
  readonly properties: Readonly<Record<string, string>>;
  readonly profiles: readonly string[] | undefined;
  readonly aliases: readonly string[];
}

/** Parses the upload headers (`X-LXD-properties`/`-profiles`/`-aliases` are URL-encoded forms, as the Go client sends them). */
export function uploadHeaders(h: Readonly<Record<string, string | string[] | undefined>>): UploadHeaders {
  const one = (name: string): string => {
    const v = h[name];
    return (Array.isArray(v) ? v[0] : v) ?? '';
  };
  const fingerprint = one('x-lxd-fingerprint').toLowerCase();
  if (fingerprint !== '' && !/^[0-9a-f]{64}$/.test(fingerprint)) throw errors.invalid(`Invalid X-LXD-fingerprint "${fingerprint}"`);
  const properties: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(one('x-lxd-properties'))) properties[k] = v;
  const profilesRaw = one('x-lxd-profiles');
  const profiles = profilesRaw === '' ? undefined : new URLSearchParams(profilesRaw).getAll('profile');
  const aliases = new URLSearchParams(one('x-lxd-aliases')).getAll('alias').filter((a) => a !== '');
  const pub = one('x-lxd-public');
  return { fingerprint, filename: one('x-lxd-filename'), public: ['true', '1', 'yes', 'on'].includes(pub.toLowerCase()), properties, profiles, aliases };
}

/** LXD's image alias name rule (no "/", no whitespace, not empty). */
export function checkAliasName(name: string): void {
  if (!/^[^/\s]{1,255}$/.test(name)) throw errors.invalid(`Invalid alias name "${name}"`);
}
