/** The driver's side of the load generator: a forked process answering one request at a time. */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadgenReply, LoadgenRequest } from './loadgen.js';

export class LoadgenClient {
  private readonly child: ChildProcess;
  private waiting: ((m: LoadgenReply) => void) | undefined;
  private failWaiting: ((err: Error) => void) | undefined;
  private readonly first: Promise<LoadgenReply>;

  constructor() {
    const here = dirname(fileURLToPath(import.meta.url));
    const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    this.child = fork(join(here, `loadgen.${ext}`), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.first = new Promise((resolve) => (this.waiting = resolve));
    this.child.on('message', (m) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.(m as LoadgenReply);
    });
    this.child.on('exit', () => this.failWaiting?.(new Error('load generator exited')));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends one request and waits for its reply (requests are strictly sequential). */
  async request<T extends LoadgenReply['type']>(req: LoadgenRequest, want: T): Promise<Extract<LoadgenReply, { type: T }>> {
    await this.first;
    const reply = await new Promise<LoadgenReply>((resolve, reject) => {
      this.waiting = resolve;
      this.failWaiting = reject;
      this.child.send(req);
    });
    if (reply.type === 'error') throw new Error(`load generator: ${reply.message}`);
    if (reply.type !== want) throw new Error(`load generator answered ${reply.type}, expected ${want}`);
    return reply as Extract<LoadgenReply, { type: T }>;
  }

  close(): void {
    if (this.child.connected) this.child.send({ type: 'exit' } satisfies LoadgenRequest);
    setTimeout(() => this.child.kill('SIGKILL'), 2000).unref();
  }
}
