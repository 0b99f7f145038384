/**
 * `api_extensions` advertised in `GET /1.0` (names from LXD's shared/version/api.go). Clients only
 * test membership, so list exactly what is implemented: a client that sees an extension uses the
 * endpoints behind it. Resource work adds its names here when its endpoints land (lxc needs e.g.
 * `instances`, `api_filtering`, `projects`, `clustering*`; see
 * shared/reference/lxd-clustering.md §2.10).
 */
export const API_EXTENSIONS: readonly string[] = [
  // PUT/PATCH /1.0/certificates/<fingerprint> (lxc config trust edit).
  'certificate_update',
  // Operations carry a description.
  'operation_description',
  // /1.0/events carries `lifecycle` events.
  'event_lifecycle',
  // Events carry the member they happened on.
  'event_location',
  // Certificates carry `restricted` and `projects`.
  'certificate_project',
  // Lifecycle requestors carry the client address.
  'event_lifecycle_requestor_address',
  // GET /1.0/events?all-projects=true and GET /1.0/operations?all-projects=true.
  'instance_all_projects',
  // Events carry their project.
  'event_project',
  // POST /1.0/certificates {token: true}: trust tokens (lxc config trust add; remote add <token>).
  'certificate_token',
  // /1.0/projects and ?project= on profiles and images (instances, networks: not yet).
  'projects',
  // GET /1.0/cluster, /1.0/cluster/members (lxc cluster list); join tokens (lxc cluster add);
  // member roles, failure domains, groups (/1.0/cluster/groups), editable event-hub role.
  'clustering',
  'clustering_join_token',
  'clustering_roles',
  'clustering_failure_domains',
  'clustering_groups',
  'clustering_edit_roles',
  // GET /1.0/instances/<n>/backups (always empty: lxc info reads it); creating backups is refused.
  'container_backup',
  // Instance I/O (src/api/instance-io): X-LXD-type directory on POST/GET /files.
  'directory_manipulation',
  // exec with record-output: output kept under /logs/exec-output/, URLs in the operation metadata.
  'container_exec_recording',
  // exec control socket: {"command":"signal"} forwarded to the command.
  'container_exec_signal_handling',
  // DELETE /1.0/instances/<n>/files.
  'file_delete',
  // X-LXD-write: append.
  'file_append',
  // X-LXD-type: symlink (push and pull).
  'file_symlinks',
  // exec user, group and cwd.
  'container_exec_user_group_cwd',
  // /1.0/storage-pools (two-phase cluster create with ?target=) and custom volumes.
  'storage',
  // Custom volume snapshots (…/volumes/custom/<v>/snapshots, restore through PUT).
  'storage_api_volume_snapshots',
  // /1.0/networks (managed bridges, unmanaged host interfaces).
  'network',
  // /1.0/networks/<n>/leases, with the member of each lease.
  'network_leases',
  'network_leases_location',
  // /1.0/networks/<n>/state.
  'network_state',
  // /1.0/resources and /1.0/storage-pools/<p>/resources.
  'resources',
  // /1.0/warnings.
  'warnings',
  // /1.0/metrics (Prometheus text, metrics certificates).
  'metrics',
  // /1.0/instances (instead of /1.0/containers): create, get, edit, delete, rename, state, snapshots.
  'instances',
  // ?filter= on GET /1.0/instances (and profiles); lxc list requires it.
  'api_filtering',
  // GET /1.0/instances?recursion=2: state, snapshots and backups in one call.
  'container_full',
  // POST /1.0/instances/<name>/snapshots takes expires_at.
  'snapshot_expiry_creation',
  // POST /1.0/instances {start: true}.
  'instance_create_start',
  // Images (api-images): `aliases` in POST /1.0/images (and the X-LXD-aliases upload header).
  'image_create_aliases',
  // POST /1.0/images {source: {type: "image", project}}: copy an image from another project.
  'image_source_project',
  // GET /1.0/images?all-projects=true.
  'images_all_projects',
  // Shoal: POST /1.0/images {source: {type: "busybox"}} builds the busybox image on the server.
  'shoal_image_build_busybox',
];
