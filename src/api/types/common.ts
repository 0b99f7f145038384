/**
 * Building blocks shared by the REST schemas. Wire keys are LXD's (snake_case); Go's zero values
 * and nil maps/slices explain the shapes: responses always carry every field (`{}`/`[]`, never
 * null, unless LXD sends null), while request bodies accept every field as optional and accept
 * `null` for maps and lists, because the Go client marshals nil maps and slices as `null`.
 */
import { Type, type TSchema, type TUnion, type TNull } from 'typebox';

/** `additionalProperties: false`: request bodies reject unknown keys (issue: "unknown keys get the right error"). */
export const STRICT = { additionalProperties: false } as const;

/** `T | null`. */
export function Nullable<T extends TSchema>(schema: T): TUnion<[T, TNull]> {
  return Type.Union([schema, Type.Null()]);
}

/** `map[string]string` (config maps, properties, environment). */
export const StringMap = Type.Record(Type.String(), Type.String());

/** `map[string]map[string]string` (devices). */
export const DeviceMap = Type.Record(Type.String(), StringMap);

/** A timestamp as Go marshals `time.Time` (RFC 3339, nanoseconds optional); unset is `0001-01-01T00:00:00Z`. */
export const Timestamp = Type.String({ description: 'RFC 3339 timestamp' });

/** Go's zero `time.Time` as JSON: what LXD sends for "never". */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** A list of strings. */
export const StringList = Type.Array(Type.String());

/** A nullable string map for request bodies. */
export const NStringMap = Nullable(StringMap);
/** A nullable device map for request bodies. */
export const NDeviceMap = Nullable(DeviceMap);
/** A nullable string list for request bodies. */
export const NStringList = Nullable(StringList);
