/**
 * LXD's stream protocol over websockets (shared/ws/rwc.go): data travels as binary messages; an
 * empty TEXT message is the end-of-stream "barrier" (the socket stays open); a close frame also
 * ends the stream. Sends resolve once `ws` has handed the bytes to the kernel, so a slow client
 * slows the producer instead of growing a buffer.
 */
import { WebSocket } from 'ws';

/** True while a message can still be sent. */
export function isOpen(socket: WebSocket): boolean {
  return socket.readyState === WebSocket.OPEN;
}

/** Sends `data` as one binary message (no-op once the socket is closing). */
export function sendData(socket: WebSocket, data: Buffer): Promise<void> {
  if (!isOpen(socket) || data.length === 0) return Promise.resolve();
  return new Promise((resolve) => socket.send(data, { binary: true }, () => resolve()));
}

/** Sends the end-of-stream barrier (an empty text message). */
export function sendBarrier(socket: WebSocket): Promise<void> {
  if (!isOpen(socket)) return Promise.resolve();
  return new Promise((resolve) => socket.send('', { binary: false }, () => resolve()));
}

/** Closes with 1000 (normal closure), as LXD does when an operation's streams are done. */
export function closeNormally(socket: WebSocket): void {
  if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(1000);
}

/** A message from a client websocket as the stream protocol sees it. */
export type StreamInput = { readonly kind: 'data'; readonly data: Buffer } | { readonly kind: 'eof' };

/** Classifies a received message: binary = data, text = barrier (end of stream). */
export function classifyMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): StreamInput {
  if (!isBinary) return { kind: 'eof' };
  const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  return { kind: 'data', data: buf };
}
