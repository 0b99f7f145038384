/**
 * The daemon's local control channel on `$SHOAL_DIR/control.socket` (gRPC without TLS over a
 * unix socket of mode 0600: only root may use it, LXD's unix-socket trust). It carries
 * StateService (`shoald db`, added once the member runs) and DaemonControl, a small JSON-encoded
 * service `shoald init`, `shoald waitready` and `shoald cluster recover` use:
 *   Status  → { initialized, ready, member?, leader? }
 *   Init    → bootstrap or join (InitRequest) and answer once this member is serving
 *   Recover → quorum-loss recovery (RecoverRequest): this member becomes the sole voter
 * Errors cross as gRPC statuses through toGrpcStatus/fromGrpcError (ShoalError codes kept).
 */
import { chmodSync, existsSync, rmSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ErrorCode, ShoalError, fromGrpcError, toGrpcStatus, type Logger } from '../shared/index.js';

/** `shoald init` options, as sent to the daemon. */
export type InitRequest =
  | {
      readonly kind: 'bootstrap';
      readonly name: string;
      readonly address: string;
      readonly apiAddress: string;
      /** Storage pool `default` with this driver; undefined = none. */
      readonly storageBackend?: 'dir' | 'btrfs';
      /** Bridge network to create (undefined = none). */
      readonly networkBridge?: string;
      /** `auto`, `none` or a CIDR (ipv4.address of the bridge). */
      readonly networkIpv4?: string;
    }
  | { readonly kind: 'join'; readonly token: string; readonly name: string; readonly address: string; readonly apiAddress: string };

export interface StatusResponse {
  readonly initialized: boolean;
  /** Serving: API up and (when initialized) the member has joined a cluster with a leader. */
  readonly ready: boolean;
  readonly member?: string;
  readonly leader?: number;
}

/** `shoald cluster recover` options. */
export interface RecoverRequest {
  /** Recover even though this member sees a leader (the cluster looks healthy). */
  readonly force?: boolean;
}

/** What `shoald cluster recover` did. */
export interface RecoverResponse {
  readonly member: string;
  readonly raftId: number;
  /** Raft members taken out of the configuration (`name@host:port`, or `raft id N` when unknown). */
  readonly removed: readonly string[];
}

export interface InitResponse {
  readonly member: string;
  readonly raftId: number;
}

const json = {
  serialize: (v: unknown): Buffer => Buffer.from(JSON.stringify(v ?? {}), 'utf8'),
  deserialize: (b: Buffer): unknown => JSON.parse(b.toString('utf8')),
};

function unaryDef(name: string): grpc.MethodDefinition<unknown, unknown> {
  return {
    path: `/shoal.daemon.v1.DaemonControl/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  };
}

const DaemonControlService = { status: unaryDef('Status'), init: unaryDef('Init'), recover: unaryDef('Recover') } as const;

/** What the daemon does for each control call. */
export interface DaemonControlHandlers {
  status(): StatusResponse;
  init(req: InitRequest): Promise<InitResponse>;
  recover(req: RecoverRequest): Promise<RecoverResponse>;
}

/** Starts the control server (DaemonControl now; StateService is added later with `addService`). */
export async function startControlServer(socket: string, handlers: DaemonControlHandlers, log: Logger): Promise<grpc.Server> {
  if (existsSync(socket)) rmSync(socket); // left by a killed process (the state dir is ours alone)
  const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
  server.addService(DaemonControlService, {
    status: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, handlers.status()),
    init: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      handlers.init(call.request as InitRequest).then(
        (res) => cb(null, res),
        (err: unknown) => {
          log.error({ err }, 'init failed');
          cb(toGrpcStatus(err));
        },
      );
    },
    recover: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      handlers.recover(call.request as RecoverRequest).then(
        (res) => cb(null, res),
        (err: unknown) => {
          log.error({ err }, 'recover failed');
          cb(toGrpcStatus(err));
        },
      );
    },
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  chmodSync(socket, 0o600);
  return server;
}

/** Calls the daemon on `socket`. UNAVAILABLE when no daemon answers. */
export function callControl<Res>(socket: string, method: keyof typeof DaemonControlService, req: unknown, timeoutMs: number): Promise<Res> {
  const client = new grpc.Client(`unix:${socket}`, grpc.credentials.createInsecure());
  const def = DaemonControlService[method];
  return new Promise<Res>((resolve, reject) => {
    client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
      client.close();
      if (!err) return resolve(res as Res);
      if (err.code === grpc.status.UNAVAILABLE && !err.metadata.get('shoal-error-code').length) {
        return reject(new ShoalError(ErrorCode.Unavailable, `No daemon answers on ${socket}`, { cause: err }));
      }
      reject(fromGrpcError(err));
    });
  });
}
