/** `GET/PUT/PATCH /1.0` (shared/api/server.go). */
import { Type, type Static } from 'typebox';
import { STRICT, StringList, StringMap } from './common.js';

/** A storage driver the server supports. Keys are capitalised: the Go struct has no json tags. */
export const ServerStorageDriverInfo = Type.Object({
  Name: Type.String(),
  Version: Type.String(),
  Remote: Type.Boolean(),
});
export type ServerStorageDriverInfo = Static<typeof ServerStorageDriverInfo>;

/** Facts about the member that answered (trusted callers only). */
export const ServerEnvironment = Type.Object({
  addresses: StringList,
  architectures: StringList,
  certificate: Type.String({ description: 'PEM of the certificate this listener presents' }),
  certificate_fingerprint: Type.String(),
  driver: Type.String(),
  driver_version: Type.String(),
  firewall: Type.String(),
  kernel: Type.String(),
  kernel_architecture: Type.String(),
  kernel_features: StringMap,
  kernel_version: Type.String(),
  lxc_features: StringMap,
  os_name: Type.String(),
  os_version: Type.String(),
  project: Type.String(),
  server: Type.String(),
  server_clustered: Type.Boolean(),
  server_event_mode: Type.String(),
  server_name: Type.String(),
  server_pid: Type.Integer(),
  server_version: Type.String(),
  storage: Type.String(),
  storage_version: Type.String(),
  storage_supported_drivers: Type.Array(ServerStorageDriverInfo),
});
export type ServerEnvironment = Static<typeof ServerEnvironment>;

/** What anyone, trusted or not, may learn (`auth: "untrusted"` for untrusted callers). */
export const ServerUntrusted = Type.Object({
  api_extensions: StringList,
  api_status: Type.String(),
  api_version: Type.String(),
  auth: Type.Union([Type.Literal('trusted'), Type.Literal('untrusted')]),
  public: Type.Boolean(),
  auth_methods: StringList,
});
export type ServerUntrusted = Static<typeof ServerUntrusted>;

/** Server configuration values as LXD renders them (strings; the request side also takes numbers and booleans). */
export const ServerConfigMap = StringMap;

/** The full `GET /1.0` answer for trusted callers. */
export const Server = Type.Object({
  ...ServerUntrusted.properties,
  config: ServerConfigMap,
  environment: ServerEnvironment,
});
export type Server = Static<typeof Server>;

/** `PUT|PATCH /1.0` body: PUT replaces the config, PATCH merges into it. */
export const ServerPut = Type.Object(
  {
    config: Type.Optional(
      Type.Union([
        Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
        Type.Null(),
      ]),
    ),
  },
  STRICT,
);
export type ServerPut = Static<typeof ServerPut>;
