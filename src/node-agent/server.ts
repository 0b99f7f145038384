/**
 * The AgentService gRPC server: handlers only decode the request, call the service and encode
 * the response; every failure goes through `toGrpcStatus`. Streaming handlers live in
 * server-streams.ts. Mutual TLS only: clients must present a certificate signed by the cluster CA.
 */
import * as grpc from '@grpc/grpc-js';
import { errors, type Logger } from '../shared/index.js';
import * as pb from '../../proto/gen/shoal/agent/v1/agent.js';
import {
  configFromPb,
  imageOf,
  instanceStateToPb,
  instanceToPb,
  interfaceStateToPb,
  leaseToPb,
  memberInfoToPb,
  networkToPb,
  poolResourcesToPb,
  poolToPb,
  resourcesToPb,
  snapshotToPb,
  specFromPb,
  volumeToPb,
} from './codec.js';
import { callLogger, callSignal, logFailure, statusOf } from './server-call.js';
import { AGENT_GRPC_OPTIONS, type AgentTls } from './grpc-options.js';
import { streamingHandlers } from './server-streams.js';
import type { AgentService } from './service.js';

/** Builds the AgentService implementation over `service`. */
export function createAgentServiceHandlers(service: AgentService, log: Logger): pb.AgentServiceServer {
  const unary =
    <Req, Res>(rpc: string, fn: (req: Req, signal: AbortSignal) => Promise<Res>): grpc.handleUnaryCall<Req, Res> =>
    (call, callback) => {
      const clog = callLogger(log, call, rpc);
      const { signal, dispose } = callSignal(call);
      clog.debug('call');
      service.run(() => fn(call.request, signal)).then(
        (res) => {
          dispose();
          callback(null, res);
        },
        (err: unknown) => {
          dispose();
          logFailure(clog, err);
          callback(statusOf(err));
        },
      );
    };
  const ref = (r: { project: string; name: string }): { project: string; name: string } => ({
    project: r.project,
    name: r.name,
  });
  const s = service;

  return {
    ...streamingHandlers(service, log),

    // Member
    getMemberInfo: unary('GetMemberInfo', async () => memberInfoToPb(s.member.info())),
    getResources: unary('GetResources', async (_r: pb.GetResourcesRequest, sig) => resourcesToPb(await s.member.resources(sig))),

    // Images
    getImage: unary('GetImage', async (r: pb.GetImageRequest) => ({ image: imageOf(await s.images.describe(r.fingerprint)) })),
    listImages: unary('ListImages', async () => ({
      images: await Promise.all((await s.images.list()).map(async (i) => imageOf(await s.images.describe(i.fingerprint)))),
    })),
    deleteImage: unary('DeleteImage', async (r: pb.DeleteImageRequest, sig) => {
      await s.images.delete(r.operationId, r.fingerprint, sig);
      return {};
    }),
    buildImage: unary('BuildImage', async (r: pb.BuildImageRequest, sig) => {
      const info = await s.images.build(r.operationId, r.recipe, sig);
      return { image: imageOf(await s.images.describe(info.fingerprint)) };
    }),

    // Storage
    createStoragePool: unary('CreateStoragePool', async (r: pb.CreateStoragePoolRequest, sig) => {
      if (!r.pool) throw errors.invalid('Missing pool');
      const { name, driver, config, description } = r.pool;
      return { pool: poolToPb(await s.storage.createPool(r.operationId, { name, driver, config: configFromPb(config), description }, sig)) };
    }),
    updateStoragePool: unary('UpdateStoragePool', async (r: pb.UpdateStoragePoolRequest, sig) => ({
      pool: poolToPb(await s.storage.updatePool(r.operationId, r.name, configFromPb(r.config), r.description, sig)),
    })),
    deleteStoragePool: unary('DeleteStoragePool', async (r: pb.DeleteStoragePoolRequest, sig) => {
      await s.storage.deletePool(r.operationId, r.name, sig);
      return {};
    }),
    listStoragePools: unary('ListStoragePools', async () => ({ pools: (await s.storage.listPools()).map(poolToPb) })),
    getStoragePoolResources: unary('GetStoragePoolResources', async (r: pb.GetStoragePoolResourcesRequest, sig) => ({
      resources: poolResourcesToPb(await s.storage.poolResources(r.name, sig)),
    })),
    createStorageVolume: unary('CreateStorageVolume', async (r: pb.CreateStorageVolumeRequest, sig) => {
      if (!r.volume) throw errors.invalid('Missing volume');
      const { pool, name, config, description } = r.volume;
      return { volume: volumeToPb(await s.storage.createVolume(r.operationId, { pool, name, config: configFromPb(config), description }, sig)) };
    }),
    deleteStorageVolume: unary('DeleteStorageVolume', async (r: pb.DeleteStorageVolumeRequest, sig) => {
      await s.storage.deleteVolume(r.operationId, r.pool, r.name, sig);
      return {};
    }),
    listStorageVolumes: unary('ListStorageVolumes', async (r: pb.ListStorageVolumesRequest, sig) => ({
      volumes: (await s.storage.listVolumes(r.pool, sig)).map(volumeToPb),
    })),
    createStorageVolumeSnapshot: unary('CreateStorageVolumeSnapshot', async (r: pb.CreateStorageVolumeSnapshotRequest, sig) => {
      await s.storage.createVolumeSnapshot(r.operationId, r.pool, r.name, r.snapshot, sig);
      return {};
    }),
    restoreStorageVolumeSnapshot: unary('RestoreStorageVolumeSnapshot', async (r: pb.RestoreStorageVolumeSnapshotRequest, sig) => {
      await s.storage.restoreVolumeSnapshot(r.operationId, r.pool, r.name, r.snapshot, sig);
      return {};
    }),
    deleteStorageVolumeSnapshot: unary('DeleteStorageVolumeSnapshot', async (r: pb.DeleteStorageVolumeSnapshotRequest, sig) => {
      await s.storage.deleteVolumeSnapshot(r.operationId, r.pool, r.name, r.snapshot, sig);
      return {};
    }),

    // Networks
    createNetwork: unary('CreateNetwork', async (r: pb.CreateNetworkRequest, sig) => {
      if (!r.network) throw errors.invalid('Missing network');
      const { name, type, config, description } = r.network;
      return { network: networkToPb(await s.networks.create(r.operationId, { name, type, config: configFromPb(config), description }, sig)) };
    }),
    updateNetwork: unary('UpdateNetwork', async (r: pb.UpdateNetworkRequest, sig) => ({
      network: networkToPb(await s.networks.update(r.operationId, r.name, configFromPb(r.config), r.description, sig)),
    })),
    deleteNetwork: unary('DeleteNetwork', async (r: pb.DeleteNetworkRequest, sig) => {
      await s.networks.delete(r.operationId, r.name, sig);
      return {};
    }),
    listNetworks: unary('ListNetworks', async () => ({ networks: (await s.networks.list()).map(networkToPb) })),
    getNetworkState: unary('GetNetworkState', async (r: pb.GetNetworkStateRequest, sig) => ({
      state: interfaceStateToPb(await s.networks.state(r.name, sig)),
    })),
    listNetworkLeases: unary('ListNetworkLeases', async (r: pb.ListNetworkLeasesRequest, sig) => ({
      leases: (await s.networks.leases(r.name, sig)).map(leaseToPb),
    })),

    // Instances
    createInstance: unary('CreateInstance', async (r: pb.CreateInstanceRequest, sig) => {
      const spec = specFromPb(r.spec);
      let source: { type: 'image'; fingerprint: string } | { type: 'none' };
      if (r.sourceType === pb.InstanceSourceType.INSTANCE_SOURCE_TYPE_IMAGE) {
        if (!r.imageFingerprint) throw errors.invalid('Missing image fingerprint');
        source = { type: 'image', fingerprint: r.imageFingerprint };
      } else if (r.sourceType === pb.InstanceSourceType.INSTANCE_SOURCE_TYPE_NONE) {
        source = { type: 'none' };
      } else {
        throw errors.invalid('Missing instance source type');
      }
      return { instance: instanceToPb(await s.instances.create(r.operationId, spec, source, sig)) };
    }),
    updateInstance: unary('UpdateInstance', async (r: pb.UpdateInstanceRequest, sig) => ({
      instance: instanceToPb(await s.instances.update(r.operationId, specFromPb(r.spec), sig)),
    })),
    startInstance: unary('StartInstance', async (r: pb.StartInstanceRequest, sig) => ({
      instance: instanceToPb(await s.lifecycle.start(r.operationId, ref(r), sig)),
    })),
    stopInstance: unary('StopInstance', async (r: pb.StopInstanceRequest, sig) => {
      const res = await s.lifecycle.stop(r.operationId, ref(r), { force: r.force, timeoutMs: r.timeoutMs }, sig);
      return res.deleted ? { instance: undefined, deleted: true } : { instance: instanceToPb(res.instance), deleted: false };
    }),
    restartInstance: unary('RestartInstance', async (r: pb.RestartInstanceRequest, sig) => ({
      instance: instanceToPb(await s.lifecycle.restart(r.operationId, ref(r), { force: r.force, timeoutMs: r.timeoutMs }, sig)),
    })),
    freezeInstance: unary('FreezeInstance', async (r: pb.FreezeInstanceRequest, sig) => ({
      instance: instanceToPb(await s.lifecycle.freeze(r.operationId, ref(r), sig)),
    })),
    unfreezeInstance: unary('UnfreezeInstance', async (r: pb.UnfreezeInstanceRequest, sig) => ({
      instance: instanceToPb(await s.lifecycle.unfreeze(r.operationId, ref(r), sig)),
    })),
    deleteInstance: unary('DeleteInstance', async (r: pb.DeleteInstanceRequest, sig) => {
      await s.instances.delete(r.operationId, ref(r), sig);
      return {};
    }),
    renameInstance: unary('RenameInstance', async (r: pb.RenameInstanceRequest, sig) => ({
      instance: instanceToPb(await s.instances.rename(r.operationId, ref(r), r.newName, sig)),
    })),
    getInstance: unary('GetInstance', async (r: pb.GetInstanceRequest, sig) => ({
      instance: instanceToPb(await s.instances.get(ref(r), sig)),
    })),
    getInstanceState: unary('GetInstanceState', async (r: pb.GetInstanceStateRequest, sig) => ({
      state: instanceStateToPb(await s.instances.state(ref(r), sig)),
    })),
    listInstances: unary('ListInstances', async (r: pb.ListInstancesRequest, sig) => ({
      instances: (await s.instances.list(r.project, sig)).map(instanceToPb),
    })),
    getConsoleLog: unary('GetConsoleLog', async (r: pb.GetConsoleLogRequest, sig) => ({
      log: await s.instances.consoleLog(ref(r), sig),
    })),
    createInstanceSnapshot: unary('CreateInstanceSnapshot', async (r: pb.CreateInstanceSnapshotRequest, sig) => ({
      snapshot: snapshotToPb(await s.snapshots.create(r.operationId, ref(r), r.snapshot, sig)),
    })),
    restoreInstanceSnapshot: unary('RestoreInstanceSnapshot', async (r: pb.RestoreInstanceSnapshotRequest, sig) => ({
      instance: instanceToPb(await s.snapshots.restore(r.operationId, ref(r), r.snapshot, sig)),
    })),
    deleteInstanceSnapshot: unary('DeleteInstanceSnapshot', async (r: pb.DeleteInstanceSnapshotRequest, sig) => {
      await s.snapshots.delete(r.operationId, ref(r), r.snapshot, sig);
      return {};
    }),
    renameInstanceSnapshot: unary('RenameInstanceSnapshot', async (r: pb.RenameInstanceSnapshotRequest, sig) => ({
      snapshot: snapshotToPb(await s.snapshots.rename(r.operationId, ref(r), r.snapshot, r.newName, sig)),
    })),
    listInstanceSnapshots: unary('ListInstanceSnapshots', async (r: pb.ListInstanceSnapshotsRequest) => ({
      snapshots: (await s.snapshots.list(ref(r))).map(snapshotToPb),
    })),
    deleteFile: unary('DeleteFile', async (r: pb.DeleteFileRequest, sig) => {
      await s.execFiles.delete(r.operationId, ref(r), r.path, sig);
      return {};
    }),
  };
}

/** Registers the AgentService on `server` (grpc health pattern); logs go to the service's logger unless given. */
export function addAgentServiceToServer(server: grpc.Server, service: AgentService, log: Logger = service.ctx.log): void {
  server.addService(pb.AgentServiceService, createAgentServiceHandlers(service, log.child({ component: 'agent-grpc' })));
}

/** A started AgentService server. */
export interface AgentServer {
  readonly port: number;
  /** Stops accepting calls, waits up to `graceMs` for calls in flight, then cancels them. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Starts a gRPC server with mutual TLS on `address` (e.g. `127.0.0.1:0`) serving `service`.
 * Clients without a certificate signed by `tls.caPem` are refused during the handshake.
 */
export async function startAgentServer(service: AgentService, address: string, tls: AgentTls, log: Logger): Promise<AgentServer> {
  const server = new grpc.Server(AGENT_GRPC_OPTIONS);
  addAgentServiceToServer(server, service, log);
  const creds = grpc.ServerCredentials.createSsl(tls.caPem, [{ private_key: tls.keyPem, cert_chain: tls.certPem }], true);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, creds, (err, p) => (err ? reject(errors.unavailable(`Failed binding "${address}"`, err)) : resolve(p))),
  );
  let closed: Promise<void> | undefined;
  return {
    port,
    close: (graceMs = 5_000) => {
      closed ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closed;
    },
  };
}
