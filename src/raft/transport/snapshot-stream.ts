/**
 * Snapshots over InstallSnapshot: the sender streams header → data chunks → trailer (SHA-256)
 * with backpressure; the receiver's {@link SnapshotAssembler} checks order, offsets, size and
 * checksum before the Snap message is handed to raft.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { ErrorCode, ShoalError, type Clock } from '../../shared/index.js';
import type { Message, Snapshot } from '../types.js';
import * as pb from '../../../proto/gen/shoal/raft/v1/raft.js';
import { fromProtoMessage, fromSnapshotHeader, toSnapshotHeader } from './codec.js';
import { fromGrpcError } from '../../shared/grpc-status.js';
import { wrap } from '../../shared/errors.js';

const INSTALL_PATH = pb.RaftServiceService.installSnapshot.path;
/** Deadline of a snapshot transfer: 60 s plus 1 s per 4 MiB (a floor of ~4 MiB/s). */
const deadlineMs = (size: number): number => 60_000 + Math.ceil(size / (4 * 1024 * 1024)) * 1000;

/**
 * Streams `msg.snapshot` to the peer behind `client`. Resolves with the data size once the
 * receiver verified and accepted it; rejects (ShoalError UNAVAILABLE, or the receiver's status
 * mapped by code) otherwise, or CANCELLED when `signal` aborts.
 */
export async function sendSnapshot(
  client: grpc.Client,
  msg: Message,
  chunkBytes: number,
  clock: Clock,
  signal: AbortSignal,
): Promise<number> {
  const snapshot = msg.snapshot;
  if (!snapshot) throw new ShoalError(ErrorCode.InvalidArgument, 'Snap message has no snapshot');
  const header = toSnapshotHeader({ ...msg, snapshot });
  const data = snapshot.data;
  let call!: grpc.ClientWritableStream<pb.InstallSnapshotRequest>;
  const done = new Promise<void>((resolve, reject) => {
    call = client.makeClientStreamRequest<pb.InstallSnapshotRequest, pb.InstallSnapshotResponse>(
      INSTALL_PATH,
      (req: pb.InstallSnapshotRequest) => Buffer.from(pb.InstallSnapshotRequest.encode(req).finish()),
      (b: Buffer) => pb.InstallSnapshotResponse.decode(b),
      new grpc.Metadata(),
      { deadline: clock.now() + deadlineMs(data.byteLength) },
      (err) => (err ? reject(wrap(fromGrpcError(err), 'Failed sending snapshot')) : resolve()),
    );
  });
  // Keep `done` handled while we are still writing; its outcome is awaited below.
  done.catch(() => undefined);
  const onAbort = (): void => call.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const hash = createHash('sha256');
    const write = async (req: pb.InstallSnapshotRequest): Promise<void> => {
      if (!call.write(req)) {
        // Backpressure: wait for 'drain', unless the call ends first.
        await Promise.race([once(call, 'drain'), done]);
      }
    };
    await write({ part: { $case: 'header', value: header } });
    for (let offset = 0; offset < data.byteLength; offset += chunkBytes) {
      if (signal.aborted) break;
      const chunk = data.subarray(offset, offset + chunkBytes);
      hash.update(chunk);
      const value = { offset, data: Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) };
      await write({ part: { $case: 'chunk', value } });
    }
    await write({ part: { $case: 'trailer', value: { sha256: hash.digest() } } });
    call.end();
    await done;
    return data.byteLength;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Receiver side of one InstallSnapshot call. Feed it every request with `accept`; it throws a
 * ShoalError (INVALID_ARGUMENT for a malformed stream, DATA_LOSS for a size or checksum
 * mismatch, RESOURCE_EXHAUSTED for a snapshot over `maxBytes`) and returns the complete Snap
 * message once the trailer verified.
 */
export class SnapshotAssembler {
  private header: pb.SnapshotHeader | undefined;
  private message: Message | undefined;
  private data: Buffer | undefined;
  private received = 0;
  private readonly hash = createHash('sha256');
  private finished = false;

  constructor(private readonly maxBytes: number) {}

  /** The header's message (without snapshot), once the header arrived: for sender checks. */
  get headerMessage(): Message | undefined {
    return this.message;
  }

  accept(req: pb.InstallSnapshotRequest): (Message & { readonly snapshot: Snapshot }) | undefined {
    const part = req.part;
    if (this.finished) throw protocol('data after the snapshot trailer');
    if (!part) throw protocol('empty snapshot request');
    switch (part.$case) {
      case 'header': {
        if (this.header) throw protocol('second snapshot header');
        const h = part.value;
        if (!h.message || !h.meta) throw protocol('snapshot header without message or metadata');
        if (h.totalSize > this.maxBytes) {
          throw new ShoalError(
            ErrorCode.ResourceExhausted,
            `Snapshot of ${h.totalSize} bytes exceeds the limit of ${this.maxBytes} bytes`,
          );
        }
        this.message = fromProtoMessage(h.message);
        this.header = h;
        this.data = Buffer.allocUnsafe(h.totalSize);
        return undefined;
      }
      case 'chunk': {
        if (!this.header || !this.data) throw protocol('snapshot chunk before the header');
        const { offset, data } = part.value;
        if (offset !== this.received) throw protocol(`snapshot chunk at offset ${offset}, expected ${this.received}`);
        if (this.received + data.length > this.data.length) {
          throw new ShoalError(
            ErrorCode.DataLoss,
            `Snapshot data exceeds its announced size of ${this.data.length} bytes`,
          );
        }
        data.copy(this.data, this.received);
        this.hash.update(data);
        this.received += data.length;
        return undefined;
      }
      case 'trailer': {
        if (!this.header || !this.data) throw protocol('snapshot trailer before the header');
        this.finished = true;
        if (this.received !== this.data.length) {
          throw new ShoalError(
            ErrorCode.DataLoss,
            `Snapshot data is ${this.received} bytes, ${this.data.length} were announced`,
          );
        }
        if (!this.hash.digest().equals(part.value.sha256)) {
          throw new ShoalError(ErrorCode.DataLoss, 'Snapshot data does not match its SHA-256 checksum');
        }
        const bytes = new Uint8Array(this.data.buffer, this.data.byteOffset, this.data.byteLength);
        return fromSnapshotHeader(this.header, bytes);
      }
    }
  }
}

function protocol(what: string): ShoalError {
  return new ShoalError(ErrorCode.InvalidArgument, `Invalid snapshot stream: ${what}`);
}
