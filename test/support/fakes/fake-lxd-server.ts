/**
 * FakeLxdServer: a small in-memory LXD 1.0 REST server on a real unix socket, for unit tests of
 * the shoal CLI's client logic (envelopes, async operations and /wait, lists, image upload
 * progress, the exec websocket protocol) while the real instance routes are not there. It knows
 * instances (create/start/stop/delete/state/PUT config with ETag), image uploads and exec
 * (`cat` echoes stdin, `fail N` exits N, anything else prints its argv). Not for integration tests.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

interface Inst {
  name: string;
  status: 'Running' | 'Stopped' | 'Frozen';
  config: Record<string, string>;
  devices: Record<string, Record<string, string>>;
  profiles: string[];
  location: string;
}

interface Op {
  id: string;
  status_code: number;
  metadata: Record<string, unknown>;
  resources: Record<string, string[]>;
  err: string;
  done: Promise<void>;
  finish: () => void;
  class: 'task' | 'websocket';
}

const KNOWN_KEY = /^(user\.|limits\.|security\.|boot\.|volatile\.)/;

export class FakeLxdServer {
  readonly instances = new Map<string, Inst>();
  readonly ops = new Map<string, Op>();
  readonly uploads: number[] = [];
  private readonly server: http.Server;
  private readonly wss = new WebSocketServer({ noServer: true });

  private constructor(readonly socketPath: string) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.handle(req, res, Buffer.concat(chunks)));
    });
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  static async start(socketPath: string): Promise<FakeLxdServer> {
    const s = new FakeLxdServer(socketPath);
    await new Promise<void>((r) => s.server.listen(socketPath, r));
    return s;
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private sync(res: http.ServerResponse, metadata: unknown, headers: Record<string, string> = {}): void {
    this.send(res, 200, { type: 'sync', status: 'Success', status_code: 200, operation: '', error_code: 0, error: '', metadata }, headers);
  }

  private error(res: http.ServerResponse, status: number, message: string): void {
    this.send(res, status, { type: 'error', status: '', status_code: 0, operation: '', error_code: status, error: message, metadata: null });
  }

  private opJson(op: Op): Record<string, unknown> {
    const status = op.status_code === 200 ? 'Success' : op.status_code === 400 ? 'Failure' : 'Running';
    return { id: op.id, class: op.class, description: 'fake', created_at: '2026-11-23T00:00:00Z', updated_at: '2026-11-23T00:00:00Z', status, status_code: op.status_code, resources: op.resources, metadata: op.metadata, may_cancel: false, err: op.err, location: 'm1' };
  }

  /** Starts an operation that runs `work` after a short delay (so clients really wait). */
  private async(res: http.ServerResponse, resources: Record<string, string[]>, work: (op: Op) => Promise<void> | void, cls: Op['class'] = 'task', metadata: Record<string, unknown> = {}): Op {
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    const op: Op = { id: randomUUID(), status_code: 103, metadata, resources, err: '', done, finish, class: cls };
    this.ops.set(op.id, op);
    if (cls === 'task') {
      setTimeout(() => {
        Promise.resolve()
          .then(() => work(op))
          .then(
          () => ((op.status_code = 200), op.finish()),
          (e: Error) => ((op.status_code = 400), (op.err = e.message), op.finish()),
        );
      }, 50);
    }
    this.send(res, 202, { type: 'async', status: 'Operation created', status_code: 100, operation: `/1.0/operations/${op.id}`, error_code: 0, error: '', metadata: this.opJson(op) }, { location: `/1.0/operations/${op.id}` });
    return op;
  }

  private full(i: Inst): Record<string, unknown> {
    const running = i.status === 'Running';
    return {
      architecture: 'x86_64', config: i.config, devices: i.devices, ephemeral: false, profiles: i.profiles, stateful: false, description: '',
      created_at: '2026-11-23T10:00:00Z', expanded_config: i.config, expanded_devices: i.devices, name: i.name, status: i.status,
      status_code: running ? 103 : i.status === 'Frozen' ? 110 : 102, last_used_at: '0001-01-01T00:00:00Z', location: i.location, type: 'container', project: 'default',
      backups: [], snapshots: [],
      state: {
        status: i.status, status_code: running ? 103 : 102, disk: {}, memory: { usage: running ? 4 * 1024 * 1024 : 0, usage_peak: 0, swap_usage: 0, swap_usage_peak: 0 },
        network: running ? { eth0: { addresses: [{ family: 'inet', address: '10.1.0.5', netmask: '24', scope: 'global' }], counters: { bytes_received: 0, bytes_sent: 0, packets_received: 0, packets_sent: 0, errors_received: 0, errors_sent: 0, packets_dropped_outbound: 0, packets_dropped_inbound: 0 }, hwaddr: '00:16:3e:00:00:01', host_name: 'veth1', mtu: 1500, state: 'up', type: 'broadcast' } } : {},
        pid: running ? 1234 : 0, processes: running ? 2 : 0, cpu: { usage: 0 },
      },
    };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const json = (): Record<string, unknown> => (body.length ? (JSON.parse(body.toString()) as Record<string, unknown>) : {});
    let m: RegExpExecArray | null;
    if (path === '/1.0' && req.method === 'GET') return this.sync(res, { api_extensions: [], api_status: 'stable', api_version: '1.0', auth: 'trusted', public: false, auth_methods: ['tls'], config: {}, environment: { server_clustered: true, server_name: 'm1' } });
    if ((m = /^\/1\.0\/operations\/([^/]+)\/wait$/.exec(path))) {
      const op = this.ops.get(m[1]!);
      if (!op) return this.error(res, 404, 'Operation not found');
      await op.done;
      return this.sync(res, this.opJson(op));
    }
    if (path === '/1.0/instances' && req.method === 'GET') return this.sync(res, [...this.instances.values()].map((i) => this.full(i)));
    if (path === '/1.0/instances' && req.method === 'POST') {
      const b = json() as { name?: string; source?: { alias?: string }; config?: Record<string, string> };
      const target = url.searchParams.get('target') ?? 'm1';
      if (target !== 'm1' && target !== 'm2') return this.error(res, 404, `Cluster member "${target}" not found`);
      const name = b.name ?? 'happy-fish';
      if (this.instances.has(name)) return this.error(res, 409, `Instance "${name}" already exists`);
      if (b.source?.alias && b.source.alias !== 'busybox') return this.error(res, 404, `Image "${b.source.alias}" not found`);
      for (const k of Object.keys(b.config ?? {})) if (!KNOWN_KEY.test(k)) return this.error(res, 400, `Invalid config: Unknown configuration key: ${k}`);
      this.async(res, { instances: [`/1.0/instances/${name}`] }, () => {
        this.instances.set(name, { name, status: 'Stopped', config: { ...(b.config ?? {}) }, devices: {}, profiles: ['default'], location: target });
      });
      return;
    }
    if ((m = /^\/1\.0\/instances\/([^/]+)(\/state|\/exec)?$/.exec(path))) {
      const name = decodeURIComponent(m[1]!);
      const inst = this.instances.get(name);
      if (!inst) return this.error(res, 404, `Instance "${name}" not found`);
      const etag = `"${JSON.stringify(inst.config).length}-${Object.keys(inst.devices).length}"`;
      if (!m[2] && req.method === 'GET') return this.sync(res, this.full(inst), { etag });
      if (!m[2] && req.method === 'PUT') {
        if (req.headers['if-match'] && req.headers['if-match'] !== etag) return this.error(res, 412, 'ETag doesn\'t match');
        const b = json() as { config?: Record<string, string>; devices?: Inst['devices'] };
        for (const k of Object.keys(b.config ?? {})) if (!KNOWN_KEY.test(k)) return this.error(res, 400, `Invalid config: Unknown configuration key: ${k}`);
        this.async(res, { instances: [`/1.0/instances/${name}`] }, () => {
          inst.config = { ...(b.config ?? {}) };
          inst.devices = { ...(b.devices ?? {}) };
        });
        return;
      }
      if (!m[2] && req.method === 'DELETE') {
        if (inst.status !== 'Stopped') return this.error(res, 400, 'Instance is running');
        this.async(res, {}, () => void this.instances.delete(name));
        return;
      }
      if (m[2] === '/state' && req.method === 'PUT') {
        const action = (json() as { action: string }).action;
        this.async(res, {}, () => {
          if (action === 'start' && inst.status === 'Running') throw new Error('The instance is already running');
          inst.status = action === 'stop' ? 'Stopped' : action === 'freeze' ? 'Frozen' : 'Running';
        });
        return;
      }
      if (m[2] === '/exec' && req.method === 'POST') {
        if (inst.status !== 'Running') return this.error(res, 400, 'Instance is not running');
        const b = json() as { command: string[] };
        const fds = { '0': randomUUID(), '1': randomUUID(), '2': randomUUID(), control: randomUUID() };
        const op = this.async(res, {}, () => undefined, 'websocket', { fds, command: b.command });
        this.runExec(op, fds, b.command);
        return;
      }
    }
    if (path === '/1.0/images' && req.method === 'POST') {
      this.uploads.push(body.length);
      this.async(res, {}, (op) => void (op.metadata = { fingerprint: 'f'.repeat(64), size: body.length }));
      return;
    }
    if (path === '/1.0/images/aliases' && req.method === 'POST') return this.sync(res, {});
    return this.error(res, 404, 'not found');
  }

  private readonly sockets = new Map<string, (ws: WebSocket) => void>();

  private runExec(op: Op, fds: Record<string, string>, command: string[]): void {
    const conns = new Map<string, WebSocket>();
    for (const [fd, secret] of Object.entries(fds)) {
      this.sockets.set(`${op.id}/${secret}`, (ws) => {
        conns.set(fd, ws);
        if (conns.size === 4) start();
      });
    }
    const finish = (code: number): void => {
      for (const fd of ['1', '2']) conns.get(fd)?.close();
      op.metadata = { return: code };
      op.status_code = 200;
      op.finish();
    };
    const start = (): void => {
      const out = conns.get('1')!;
      const err = conns.get('2')!;
      if (command[0] === 'cat') {
        conns.get('0')!.on('message', (data: Buffer) => {
          if (data.length === 0) finish(0);
          else out.send(data, { binary: true });
        });
        return;
      }
      if (command[0] === 'fail') {
        err.send(Buffer.from('failing\n'), { binary: true }, () => finish(Number(command[1] ?? 1)));
        return;
      }
      out.send(Buffer.from(command.join(' ') + '\n'), { binary: true }, () => finish(0));
    };
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/1\.0\/operations\/([^/]+)\/websocket$/.exec(url.pathname);
    const attach = m ? this.sockets.get(`${m[1]!}/${url.searchParams.get('secret') ?? ''}`) : undefined;
    if (!attach) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  }
}
