/**
 * `POST /1.0/instances` (LXD lxd/instances_post.go), Shoal's way: everything that can be refused
 * is refused before the 202 — the body, the name, the image, the target member, and the placement
 * itself, which commits the record `{location, status: 'Creating'}` (src/cluster/placement). The
 * operation then makes sure the image is on the member, calls the agent's CreateInstance (keyed
 * by the operation id) and records `Stopped` plus the agent's volatile keys. A failed agent step
 * deletes what the agent may have made and the record; if that fails too, the operation's error
 * says exactly what remains (RevertIncompleteError).
 */
import { randomInt } from 'node:crypto';
import { describeNotPlaced, placeInstance, type InstanceSpec, type Placed } from '../../cluster/placement/index.js';
import { ErrorCode, Reverter, ShoalError, errors, type Logger } from '../../shared/index.js';
import { instances, members, projects, type ImageRecord, type InstanceRecord, type StateView } from '../../state/index.js';
import * as pb from '../../../proto/gen/shoal/agent/v1/agent.js';
import { LifecycleAction, type EventLifecycleRequestor, type InstancesPost, type Operation } from '../types/index.js';
import { updateSettled, writeStatus } from './commit.js';
import { instanceEvent, type InstanceContext } from './context.js';
import { agentSpec, isAmbiguous, isNotFound, observedStatus, withVolatile } from './host.js';
import { resolveImageFromDb } from './images.js';
import { checkInstanceName, petName } from './names.js';
import { instanceUrl } from './render.js';

/** Agent deadline for creating an instance (unpacking an image can take a while). */
const CREATE_TIMEOUT_MS = 10 * 60_000;

/** The request, as the route parsed it. */
export interface CreateRequest {
  readonly project: string;
  readonly body: InstancesPost;
  /** `?target=`: a member or `@group`. */
  readonly target: string | undefined;
  readonly requestId: string;
  readonly requestor: EventLifecycleRequestor;
}

/** What the placement recorded and the operation carries out. */
interface Plan {
  readonly record: InstanceRecord;
  readonly image: ImageRecord | undefined;
}

/**
 * Validates, places and records the instance, then starts the create operation and returns it.
 * Throws (nothing recorded): INVALID_ARGUMENT (body, name, config, devices, unsupported source or
 * type), NOT_FOUND (project, profile, image, target member), ALREADY_EXISTS, FAILED_PRECONDITION
 * (no member fits: every member's reason), NOT_LEADER/UNAVAILABLE.
 */
export async function createInstance(ctx: InstanceContext, req: CreateRequest): Promise<Operation> {
  const view = await ctx.store.view();
  const { spec, image } = await specOf(ctx, view, req);
  const placed = await place(ctx, spec, req.target);
  const plan: Plan = { record: placed.record, image };
  const log = ctx.log.child({ instance: spec.name, project: req.project, member: placed.member });
  log.info({ explanation: placed.explanation }, 'instance placed');
  try {
    return await ctx.operations.createTask({
      type: 'instance-create',
      description: 'Creating instance',
      project: req.project,
      resources: { instances: [instanceUrl(req.project, spec.name)] },
      requestId: req.requestId,
      run: async (op) => {
        await carryOut(ctx, plan, op.id, op.signal, log);
        instanceEvent(ctx, req.project, LifecycleAction.InstanceCreated, instanceUrl(req.project, spec.name), req.requestor);
        if (req.body.start) {
          // LXD instance_create_start: a failed start leaves the created instance (Stopped), as LXD does.
          const res = await ctx.agent(placed.member).unary('startInstance', { operationId: `${op.id}-start`, project: req.project, name: spec.name }, { signal: op.signal, timeoutMs: 300_000 });
          await writeStatus(ctx.store, ctx.clock, req.project, spec.name, observedStatus(res.instance));
          instanceEvent(ctx, req.project, LifecycleAction.InstanceStarted, instanceUrl(req.project, spec.name), req.requestor);
        }
      },
    });
  } catch (err) {
    await deleteRecord(ctx, plan.record).catch((revertErr: unknown) => {
      throw new ShoalError(ErrorCode.Internal, `Failed creating the operation (${String(err)}); the record of instance "${spec.name}" remains: ${String(revertErr)}`, { cause: err });
    });
    throw err;
  }
}

async function specOf(ctx: InstanceContext, view: StateView, req: CreateRequest): Promise<{ spec: InstanceSpec; image: ImageRecord | undefined }> {
  const b = req.body;
  const { project } = req;
  if (b.type === 'virtual-machine') throw errors.invalid('Virtual machines are not supported: Shoal runs containers only');
  if (b.instance_type) throw errors.invalid('Instance types ("instance_type") are not supported: set limits.cpu and limits.memory');
  if (b.stateful) throw errors.invalid('Stateful instances are not supported');
  view.require(projects, project);
  const name = b.name ?? '';
  if (name !== '') checkInstanceName(name);
  const source = b.source;
  let image: ImageRecord | undefined;
  const config: Record<string, string> = { ...(b.config ?? {}) };
  switch (source.type ?? '') {
    case 'image': {
      if (source.server || source.mode === 'push') throw errors.invalid('Remote image sources are not supported: import the image first (lxc image copy)');
      if (source.properties && Object.keys(source.properties).length > 0 && !source.alias && !source.fingerprint) {
        throw errors.invalid('Selecting an image by properties is not supported: give an alias or a fingerprint');
      }
      const src = { ...(source.alias ? { alias: source.alias } : {}), ...(source.fingerprint ? { fingerprint: source.fingerprint } : {}) };
      image = ctx.images ? await ctx.images.resolve(project, src) : resolveImageFromDb(view, project, src);
      if (image.type !== 'container') throw errors.invalid(`Image "${image.fingerprint}" is a virtual-machine image`);
      for (const [k, v] of Object.entries(image.properties)) config[`image.${k}`] ??= v;
      config['volatile.base_image'] = image.fingerprint;
      break;
    }
    case 'none':
      break;
    case 'copy':
      throw errors.invalid('Copying instances is not supported yet (the node agent has no volume copy)');
    case 'migration':
      throw errors.invalid('Migration sources are not supported');
    case '':
      throw errors.invalid('Must specify a source type (image, none)');
    default:
      throw errors.invalid(`Unknown source type "${source.type ?? ''}"`);
  }
  const finalName = name !== '' ? name : petName(() => randomInt(0, 2 ** 30) / 2 ** 30, (n) => view.get(instances, project, n) !== undefined);
  if (req.target && !req.target.startsWith('@') && !view.get(members, req.target)) throw errors.notFound(`Cluster member "${req.target}" not found`);
  const profiles = b.profiles ?? (image && image.profiles.length > 0 ? [...image.profiles] : ['default']);
  const spec: InstanceSpec = {
    name: finalName,
    project,
    type: 'container',
    architecture: image?.architecture ?? architectureOf(view, req.target),
    description: b.description ?? '',
    config,
    devices: { ...(b.devices ?? {}) },
    profiles,
    ephemeral: b.ephemeral ?? false,
    stateful: false,
    created_at: new Date(ctx.clock.now()).toISOString(),
  };
  return { spec, image };
}

/** The architecture of the target member, or of the first member (Shoal clusters are homogeneous). */
function architectureOf(view: StateView, target: string | undefined): string {
  const m = (target && !target.startsWith('@') ? view.get(members, target)?.record : undefined) ?? view.list(members)[0]?.record;
  return m?.architecture ?? 'x86_64';
}

/** What `POST /1.0/instances?dry-run=1` answers: the member the scheduler would choose and why, or why none fits. */
export interface DryRunResult {
  readonly placed: boolean;
  /** The chosen member ('' when nothing fits). */
  readonly member: string;
  /** The scheduler's explanation (placed) or the reason nothing fits. */
  readonly explanation: string;
  /** Members rejected, with their reasons. */
  readonly rejections: ReadonlyArray<{ readonly member: string; readonly reason: string }>;
}

/**
 * The placement decision for a create request, with every check a real create makes before it
 * records anything (body, name, image, profiles, target), and nothing written (`shoal launch
 * --dry-run`). Throws what createInstance throws before its 202, except "no member fits", which
 * is the answer.
 */
export async function dryRunInstance(ctx: InstanceContext, req: Omit<CreateRequest, 'requestId' | 'requestor'>): Promise<DryRunResult> {
  const view = await ctx.store.view();
  const { spec } = await specOf(ctx, view, { ...req, requestId: '', requestor: { address: '', protocol: '', username: '' } });
  if (view.get(instances, spec.project, spec.name)) throw errors.exists(`Instance "${spec.name}" already exists`);
  const outcome = await placeInstance(ctx.store, { instance: spec, ...(req.target ? { target: req.target } : {}) }, { clock: ctx.clock, dryRun: true });
  const rejections = outcome.rejections.map((r) => ({ member: r.member, reason: r.reason }));
  if (!outcome.placed) {
    if (req.target && !req.target.startsWith('@') && outcome.rejections.length === 0) throw errors.notFound(outcome.reason);
    return { placed: false, member: '', explanation: outcome.reason, rejections };
  }
  return { placed: true, member: outcome.member, explanation: outcome.explanation, rejections };
}

/** Places and records the instance; after an ambiguous failure, re-reads whether our record committed. */
async function place(ctx: InstanceContext, spec: InstanceSpec, target: string | undefined): Promise<Placed> {
  try {
    const outcome = await placeInstance(ctx.store, { instance: spec, ...(target ? { target } : {}) }, { clock: ctx.clock });
    if (!outcome.placed) {
      if (target && !target.startsWith('@') && outcome.rejections.length === 0) throw errors.notFound(outcome.reason);
      throw errors.precondition(describeNotPlaced(outcome));
    }
    return outcome;
  } catch (err) {
    if (!isAmbiguous(err)) throw err;
    // The transaction may have committed: ours is the record with our creation time.
    const rec = (await ctx.store.view()).get(instances, spec.project, spec.name)?.record;
    if (rec && rec.status === 'Creating' && rec.created_at === spec.created_at) {
      return { placed: true, member: rec.location, record: rec, explanation: 'placement committed before the leader change', rejections: [], revision: null, attempts: 1 };
    }
    throw err;
  }
}

async function carryOut(ctx: InstanceContext, plan: Plan, opId: string, signal: AbortSignal, log: Logger): Promise<void> {
  const r = plan.record;
  const revert = new Reverter();
  revert.add(`database record of instance "${r.name}"`, () => deleteRecord(ctx, r));
  try {
    if (plan.image && ctx.images) await ctx.images.ensureOn(r.project, plan.image.fingerprint, r.location);
    const agent = ctx.agent(r.location);
    const spec = agentSpec(await ctx.store.view(), r);
    revert.add(`instance "${r.name}" on member "${r.location}"`, async () => {
      try {
        await agent.unary('deleteInstance', { operationId: `${opId}-revert`, project: r.project, name: r.name }, { timeoutMs: 120_000 });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    });
    const res = await agent.unary(
      'createInstance',
      {
        operationId: opId,
        spec,
        sourceType: plan.image ? pb.InstanceSourceType.INSTANCE_SOURCE_TYPE_IMAGE : pb.InstanceSourceType.INSTANCE_SOURCE_TYPE_NONE,
        imageFingerprint: plan.image?.fingerprint ?? '',
      },
      { signal, timeoutMs: CREATE_TIMEOUT_MS },
    );
    await writeStatus(ctx.store, ctx.clock, r.project, r.name, 'Stopped', (cur) => withVolatile(cur, res.instance));
    revert.success();
    log.info({}, 'instance created');
  } finally {
    await revert.fail();
  }
}

/** Deletes the placement record (if it is still the one placed); survives a cut-off commit. */
async function deleteRecord(ctx: InstanceContext, r: InstanceRecord): Promise<void> {
  await updateSettled(
    ctx.store,
    ctx.clock,
    (tx) => {
      const cur = tx.get(instances, r.project, r.name)?.record;
      if (cur && cur.created_at === r.created_at) tx.delete(instances, r.project, r.name);
    },
    (view) => view.get(instances, r.project, r.name)?.record.created_at !== r.created_at,
  );
}
