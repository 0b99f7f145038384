/** `/1.0/images` (shared/api/image.go). */
import { Type, type Static } from 'typebox';
import { NStringList, NStringMap, Nullable, STRICT, StringList, StringMap, Timestamp } from './common.js';

/** An alias as listed inside an image. */
export const ImageAlias = Type.Object({ name: Type.String(), description: Type.String() });
export type ImageAlias = Static<typeof ImageAlias>;

/** Where a cached image came from. */
export const ImageSource = Type.Object({
  alias: Type.String(),
  certificate: Type.String(),
  protocol: Type.String(),
  server: Type.String(),
  image_type: Type.String(),
});
export type ImageSource = Static<typeof ImageSource>;

/** `PUT|PATCH /1.0/images/<fingerprint>`. */
export const ImagePut = Type.Partial(
  Type.Object({
    auto_update: Type.Boolean(),
    properties: NStringMap,
    public: Type.Boolean(),
    expires_at: Timestamp,
    profiles: NStringList,
  }),
  STRICT,
);
export type ImagePut = Static<typeof ImagePut>;

/** An image. `fingerprint` is the SHA-256 of the image file(s); `type` is "container". */
export const Image = Type.Object({
  auto_update: Type.Boolean(),
  properties: StringMap,
  public: Type.Boolean(),
  expires_at: Timestamp,
  profiles: StringList,
  aliases: Type.Array(ImageAlias),
  architecture: Type.String(),
  cached: Type.Boolean(),
  filename: Type.String(),
  fingerprint: Type.String(),
  size: Type.Integer(),
  update_source: Type.Optional(ImageSource),
  type: Type.String(),
  created_at: Timestamp,
  last_used_at: Timestamp,
  uploaded_at: Timestamp,
});
export type Image = Static<typeof Image>;

/** `source` of a JSON `POST /1.0/images` (from an instance, a snapshot, a URL or another server). */
export const ImagesPostSource = Type.Partial(
  Type.Object({
    alias: Type.String(),
    certificate: Type.String(),
    protocol: Type.String(),
    server: Type.String(),
    image_type: Type.String(),
    mode: Type.String(),
    type: Type.String(),
    url: Type.String(),
    name: Type.String(),
    fingerprint: Type.String(),
    secret: Type.String(),
    project: Type.String(),
  }),
  STRICT,
);
export type ImagesPostSource = Static<typeof ImagesPostSource>;

/** An alias in a request body. */
export const ImageAliasInput = Type.Partial(Type.Object({ name: Type.String(), description: Type.String() }), STRICT);

/**
 * JSON body of `POST /1.0/images` (file uploads instead send the tarball(s) as the raw or
 * multipart body with `X-LXD-*` headers).
 */
export const ImagesPost = Type.Object(
  {
    ...ImagePut.properties,
    filename: Type.Optional(Type.String()),
    source: Type.Optional(Nullable(ImagesPostSource)),
    compression_algorithm: Type.Optional(Type.String()),
    aliases: Type.Optional(Nullable(Type.Array(ImageAliasInput))),
  },
  STRICT,
);
export type ImagesPost = Static<typeof ImagesPost>;

/** `POST /1.0/images/<fingerprint>/export` (push to another server). */
export const ImageExportPost = Type.Partial(
  Type.Object({
    target: Type.String(),
    secret: Type.String(),
    certificate: Type.String(),
    aliases: Nullable(Type.Array(ImageAliasInput)),
    project: Type.String(),
    profiles: NStringList,
  }),
  STRICT,
);
export type ImageExportPost = Static<typeof ImageExportPost>;

/** An alias entry (`/1.0/images/aliases/<name>`): `target` is the image fingerprint. */
export const ImageAliasesEntry = Type.Object({
  name: Type.String(),
  description: Type.String(),
  target: Type.String(),
  type: Type.String(),
});
export type ImageAliasesEntry = Static<typeof ImageAliasesEntry>;

/** `POST /1.0/images/aliases`. */
export const ImageAliasesPost = Type.Object(
  {
    name: Type.String(),
    description: Type.Optional(Type.String()),
    target: Type.String(),
    type: Type.Optional(Type.String()),
  },
  STRICT,
);
export type ImageAliasesPost = Static<typeof ImageAliasesPost>;

/** `PUT|PATCH /1.0/images/aliases/<name>`. */
export const ImageAliasesEntryPut = Type.Partial(Type.Object({ description: Type.String(), target: Type.String() }), STRICT);
export type ImageAliasesEntryPut = Static<typeof ImageAliasesEntryPut>;

/** `POST /1.0/images/aliases/<name>` (rename). */
export const ImageAliasesEntryPost = Type.Object({ name: Type.String() }, STRICT);
export type ImageAliasesEntryPost = Static<typeof ImageAliasesEntryPost>;
