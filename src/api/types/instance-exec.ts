/** Exec and console (shared/api/instance_exec.go, instance_console.go). */
import { Type, type Static } from 'typebox';
import { NStringMap, STRICT } from './common.js';

/**
 * `POST /1.0/instances/<name>/exec` (async, class websocket when `wait-for-websocket`). The
 * operation's metadata carries `fds: {"0": secret, "1": …, "2": …, "control": …}` (interactive:
 * `{"0": …, "control": …}`); when done, `{return: <exit code>}` plus `output` with
 * `record-output`.
 */
export const InstanceExecPost = Type.Object(
  {
    command: Type.Array(Type.String(), { minItems: 1 }),
    'wait-for-websocket': Type.Optional(Type.Boolean()),
    interactive: Type.Optional(Type.Boolean()),
    environment: Type.Optional(NStringMap),
    width: Type.Optional(Type.Integer()),
    height: Type.Optional(Type.Integer()),
    'record-output': Type.Optional(Type.Boolean()),
    user: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295 })),
    group: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295 })),
    cwd: Type.Optional(Type.String()),
  },
  STRICT,
);
export type InstanceExecPost = Static<typeof InstanceExecPost>;

/** A message on an exec operation's `control` websocket (`window-resize`, `signal`). */
export const InstanceExecControl = Type.Object({
  command: Type.String(),
  args: Type.Optional(NStringMap),
  signal: Type.Optional(Type.Integer()),
});
export type InstanceExecControl = Static<typeof InstanceExecControl>;

/** `POST /1.0/instances/<name>/console` (async, class websocket). `type`: "console" (default) or "vga". */
export const InstanceConsolePost = Type.Partial(
  Type.Object({ width: Type.Integer(), height: Type.Integer(), type: Type.String() }),
  STRICT,
);
export type InstanceConsolePost = Static<typeof InstanceConsolePost>;

/** A message on a console operation's `control` websocket. */
export const InstanceConsoleControl = Type.Object({
  command: Type.String(),
  args: Type.Optional(NStringMap),
});
export type InstanceConsoleControl = Static<typeof InstanceConsoleControl>;
