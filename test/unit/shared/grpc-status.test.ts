// The one ShoalError ↔ gRPC status mapping (src/shared/grpc-status.ts): every code survives the
// round trip with its message and retryability; statuses without our trailer are mapped by code.
import { strict as assert } from 'node:assert';
import { Metadata, status } from '@grpc/grpc-js';
import { ErrorCode, ShoalError, fromGrpcError, toGrpcStatus } from '../../../src/shared/index.js';

function asServiceError(s: ReturnType<typeof toGrpcStatus>): Error & { code: number; details: string; metadata: Metadata } {
  return Object.assign(new Error(`${s.code} ${s.details}`), s);
}

describe('src/shared/grpc-status.ts', () => {
  describe('toGrpcStatus / fromGrpcError', () => {
    for (const code of Object.values(ErrorCode)) {
      it(`round-trips ${code}`, () => {
        for (const retryable of [true, false]) {
          const back = fromGrpcError(asServiceError(toGrpcStatus(new ShoalError(code, `Instance "web1" ${code}`, { retryable }))));
          assert.deepEqual([back.code, back.message, back.retryable], [code, `Instance "web1" ${code}`, retryable]);
        }
      });
    }

    it('makes other errors INTERNAL and keeps their message', () => {
      const s = toGrpcStatus(new TypeError('x is undefined'));
      assert.equal(s.code, status.INTERNAL);
      assert.equal(fromGrpcError(asServiceError(s)).code, ErrorCode.Internal);
    });

    it('maps statuses without our trailer by gRPC code with default retryability', () => {
      const e = Object.assign(new Error('14 UNAVAILABLE: connect failed'), { code: status.UNAVAILABLE, details: 'connect failed', metadata: new Metadata() });
      const back = fromGrpcError(e);
      assert.deepEqual([back.code, back.message, back.retryable], [ErrorCode.Unavailable, 'connect failed', true]);
    });
  });
});
