// An in-process TCP proxy on loopback for fault tests: forwards bytes both ways until `freeze()`,
// after which it silently swallows them and keeps the sockets open (a peer that hangs: SIGSTOP,
// a black-holed link), so only keepalive can notice. `close()` destroys everything.
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export interface TcpProxy {
  readonly address: string;
  freeze(): void;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (any free port) forwarding to `target` (`host:port`). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<Socket>();
  let frozen = false;
  const server = createServer((client) => {
    const upstream = connect(port, host);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(a);
      a.on('data', (chunk) => {
        if (!frozen) b.write(chunk);
      });
      a.on('close', () => {
        sockets.delete(a);
        if (!frozen) b.destroy();
      });
      a.on('error', () => a.destroy()); // A reset peer is an expected outcome here.
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    freeze: () => {
      frozen = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
