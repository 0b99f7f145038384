/** Events on `/1.0/events` (shared/api/event.go, event_lifecycle.go). */
import { Type, type Static } from 'typebox';
import { StringMap, Timestamp } from './common.js';

/** Event types a client can subscribe to. */
export const EventType = { Logging: 'logging', Operation: 'operation', Lifecycle: 'lifecycle' } as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/** Every event type, in LXD's order. */
export const EVENT_TYPES: readonly EventType[] = ['logging', 'operation', 'lifecycle'];

/**
 * One websocket text frame. `location` (the member the event happened on) and `project` are
 * omitted when empty, as Go's `omitempty` does.
 */
export const Event = Type.Object({
  type: Type.String(),
  timestamp: Timestamp,
  metadata: Type.Unknown(),
  location: Type.Optional(Type.String()),
  project: Type.Optional(Type.String()),
});
export type Event = Static<typeof Event>;

/** Who asked for a lifecycle change. */
export const EventLifecycleRequestor = Type.Object({
  username: Type.String(),
  protocol: Type.String(),
  address: Type.String(),
});
export type EventLifecycleRequestor = Static<typeof EventLifecycleRequestor>;

/** Metadata of a `lifecycle` event. */
export const EventLifecycle = Type.Object({
  action: Type.String(),
  source: Type.String(),
  context: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  requestor: Type.Optional(EventLifecycleRequestor),
});
export type EventLifecycle = Static<typeof EventLifecycle>;

/** Metadata of a `logging` event. */
export const EventLogging = Type.Object({
  message: Type.String(),
  level: Type.String(),
  context: StringMap,
});
export type EventLogging = Static<typeof EventLogging>;

/** Lifecycle actions, named as LXD names them (shared/api/event_lifecycle.go). */
export const LifecycleAction = {
  CertificateCreated: 'certificate-created',
  CertificateDeleted: 'certificate-deleted',
  CertificateUpdated: 'certificate-updated',
  ClusterCertificateUpdated: 'cluster-certificate-updated',
  ClusterDisabled: 'cluster-disabled',
  ClusterEnabled: 'cluster-enabled',
  ClusterGroupCreated: 'cluster-group-created',
  ClusterGroupDeleted: 'cluster-group-deleted',
  ClusterGroupRenamed: 'cluster-group-renamed',
  ClusterGroupUpdated: 'cluster-group-updated',
  ClusterMemberAdded: 'cluster-member-added',
  ClusterMemberRemoved: 'cluster-member-removed',
  ClusterMemberRenamed: 'cluster-member-renamed',
  ClusterMemberUpdated: 'cluster-member-updated',
  ClusterTokenCreated: 'cluster-token-created',
  ConfigUpdated: 'config-updated',
  ImageAliasCreated: 'image-alias-created',
  ImageAliasDeleted: 'image-alias-deleted',
  ImageAliasRenamed: 'image-alias-renamed',
  ImageAliasUpdated: 'image-alias-updated',
  ImageCreated: 'image-created',
  ImageDeleted: 'image-deleted',
  ImageRefreshed: 'image-refreshed',
  ImageRetrieved: 'image-retrieved',
  ImageSecretCreated: 'image-secret-created',
  ImageUpdated: 'image-updated',
  InstanceConsole: 'instance-console',
  InstanceConsoleReset: 'instance-console-reset',
  InstanceConsoleRetrieved: 'instance-console-retrieved',
  InstanceCreated: 'instance-created',
  InstanceDeleted: 'instance-deleted',
  InstanceExec: 'instance-exec',
  InstanceFileDeleted: 'instance-file-deleted',
  InstanceFilePushed: 'instance-file-pushed',
  InstanceFileRetrieved: 'instance-file-retrieved',
  InstanceLogDeleted: 'instance-log-deleted',
  InstanceLogRetrieved: 'instance-log-retrieved',
  InstanceMetadataRetrieved: 'instance-metadata-retrieved',
  InstanceMetadataUpdated: 'instance-metadata-updated',
  InstancePaused: 'instance-paused',
  InstanceReady: 'instance-ready',
  InstanceRenamed: 'instance-renamed',
  InstanceRestarted: 'instance-restarted',
  InstanceRestored: 'instance-restored',
  InstanceResumed: 'instance-resumed',
  InstanceShutdown: 'instance-shutdown',
  InstanceSnapshotCreated: 'instance-snapshot-created',
  InstanceSnapshotDeleted: 'instance-snapshot-deleted',
  InstanceSnapshotRenamed: 'instance-snapshot-renamed',
  InstanceSnapshotUpdated: 'instance-snapshot-updated',
  InstanceStarted: 'instance-started',
  InstanceStopped: 'instance-stopped',
  InstanceUpdated: 'instance-updated',
  NetworkCreated: 'network-created',
  NetworkDeleted: 'network-deleted',
  NetworkRenamed: 'network-renamed',
  NetworkUpdated: 'network-updated',
  OperationCancelled: 'operation-cancelled',
  ProfileCreated: 'profile-created',
  ProfileDeleted: 'profile-deleted',
  ProfileRenamed: 'profile-renamed',
  ProfileUpdated: 'profile-updated',
  ProjectCreated: 'project-created',
  ProjectDeleted: 'project-deleted',
  ProjectRenamed: 'project-renamed',
  ProjectUpdated: 'project-updated',
  StoragePoolCreated: 'storage-pool-created',
  StoragePoolDeleted: 'storage-pool-deleted',
  StoragePoolUpdated: 'storage-pool-updated',
  StorageVolumeCreated: 'storage-volume-created',
  StorageVolumeDeleted: 'storage-volume-deleted',
  StorageVolumeRenamed: 'storage-volume-renamed',
  StorageVolumeRestored: 'storage-volume-restored',
  StorageVolumeSnapshotCreated: 'storage-volume-snapshot-created',
  StorageVolumeSnapshotDeleted: 'storage-volume-snapshot-deleted',
  StorageVolumeSnapshotRenamed: 'storage-volume-snapshot-renamed',
  StorageVolumeSnapshotUpdated: 'storage-volume-snapshot-updated',
  StorageVolumeUpdated: 'storage-volume-updated',
  WarningAcknowledged: 'warning-acknowledged',
  WarningDeleted: 'warning-deleted',
  WarningReset: 'warning-reset',
} as const;
export type LifecycleAction = (typeof LifecycleAction)[keyof typeof LifecycleAction];
