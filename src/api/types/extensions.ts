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
  // Images (api-images): `aliases` in POST /1.0/images (and the X-LXD-aliases upload header).
  'image_create_aliases',
  // POST /1.0/images {source: {type: "image", project}}: copy an image from another project.
  'image_source_project',
  // GET /1.0/images?all-projects=true.
  'images_all_projects',
  // Shoal: POST /1.0/images {source: {type: "busybox"}} builds the busybox image on the server.
  'shoal_image_build_busybox',
];
