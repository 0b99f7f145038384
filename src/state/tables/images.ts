/**
 * Images (LXD Image), their per-member presence (LXD images_nodes) and aliases (LXD ImageAlias).
 * An image record is global; which members hold its files is one small record per member, so that
 * members adding or dropping a copy never conflict with each other or with edits of the image.
 */
import { defineTable, inProject } from './define.js';
import { arr, bool, int, MEMBER_NAME, name, nullable, obj, oneOf, SHA256, str, strMap, time } from './fields.js';

export interface ImageRecord {
  readonly fingerprint: string;
  readonly project: string;
  readonly filename: string;
  readonly size: number;
  readonly architecture: string;
  readonly type: 'container' | 'virtual-machine';
  readonly public: boolean;
  readonly auto_update: boolean;
  readonly cached: boolean;
  readonly properties: Readonly<Record<string, string>>;
  readonly profiles: readonly string[];
  readonly created_at: string;
  readonly uploaded_at: string;
  readonly last_used_at: string | null;
  readonly expires_at: string | null;
}

const fingerprint = str({ pattern: SHA256, what: 'a SHA-256 fingerprint' });

export const images = defineTable<ImageRecord, [string, string]>({
  name: 'images',
  noun: 'Image',
  arity: 2,
  keyOf: (r) => [r.project, r.fingerprint],
  describe: ([p, f]) => inProject('Image', f, p),
  check: obj<ImageRecord>({
    fingerprint,
    project: name,
    filename: str(),
    size: int(0),
    architecture: str({ nonEmpty: true }),
    type: oneOf('container', 'virtual-machine'),
    public: bool,
    auto_update: bool,
    cached: bool,
    properties: strMap,
    profiles: arr(name, { unique: true }),
    created_at: time,
    uploaded_at: time,
    last_used_at: nullable(time),
    expires_at: nullable(time),
  }),
});

/** A member holding an image's files (the fingerprint names the content, whatever the project). */
export interface ImageMemberRecord {
  readonly fingerprint: string;
  readonly member: string;
  /** False while the member is still downloading it. */
  readonly ready: boolean;
}

export const imageMembers = defineTable<ImageMemberRecord, [string, string]>({
  name: 'image-members',
  noun: 'Image copy',
  arity: 2,
  keyOf: (r) => [r.fingerprint, r.member],
  describe: ([f, m]) => `Copy of image "${f}" on member "${m}"`,
  check: obj<ImageMemberRecord>({ fingerprint, member: str({ pattern: MEMBER_NAME }), ready: bool }),
});

export interface ImageAliasRecord {
  readonly name: string;
  readonly project: string;
  readonly description: string;
  /** The image's fingerprint. */
  readonly target: string;
  readonly type: 'container' | 'virtual-machine';
}

export const imageAliases = defineTable<ImageAliasRecord, [string, string]>({
  name: 'image-aliases',
  noun: 'Image alias',
  arity: 2,
  keyOf: (r) => [r.project, r.name],
  describe: ([p, n]) => inProject('Image alias', n, p),
  check: obj<ImageAliasRecord>({
    name: str({ pattern: /^[^/\s]{1,255}$/, what: 'an alias without "/" or spaces' }),
    project: name,
    description: str(),
    target: fingerprint,
    type: oneOf('container', 'virtual-machine'),
  }),
});
