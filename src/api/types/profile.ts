/** `/1.0/profiles` (shared/api/profile.go). */
import { Type, type Static } from 'typebox';
import { DeviceMap, NDeviceMap, NStringMap, STRICT, StringList, StringMap } from './common.js';

/** `PUT|PATCH /1.0/profiles/<name>`. */
export const ProfilePut = Type.Partial(
  Type.Object({ config: NStringMap, description: Type.String(), devices: NDeviceMap }),
  STRICT,
);
export type ProfilePut = Static<typeof ProfilePut>;

/** `POST /1.0/profiles`. */
export const ProfilesPost = Type.Object({ ...ProfilePut.properties, name: Type.String() }, STRICT);
export type ProfilesPost = Static<typeof ProfilesPost>;

/** `POST /1.0/profiles/<name>` (rename). */
export const ProfilePost = Type.Object({ name: Type.String() }, STRICT);
export type ProfilePost = Static<typeof ProfilePost>;

/** A profile; `used_by` lists instance URLs. */
export const Profile = Type.Object({
  config: StringMap,
  description: Type.String(),
  devices: DeviceMap,
  name: Type.String(),
  used_by: StringList,
});
export type Profile = Static<typeof Profile>;
