/** Migration targets shared by instance and snapshot POSTs (shared/api/instance.go). */
import { Type, type Static } from 'typebox';
import { NStringMap, STRICT } from './common.js';

/** `target` of a migration-style POST (the destination's certificate, operation URL and websocket secrets). */
export const InstancePostTarget = Type.Partial(
  Type.Object({ certificate: Type.String(), operation: Type.String(), secrets: NStringMap }),
  STRICT,
);
export type InstancePostTarget = Static<typeof InstancePostTarget>;
