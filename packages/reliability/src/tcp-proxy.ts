/**
 * A small TCP proxy on loopback for network cuts between one process and Redis. `cut()` stops moving
 * bytes both ways without closing anything (what a partition looks like: commands sent meanwhile wait in
 * the socket buffers and arrive late, after `heal()`); `reset()` closes every connection at once.
 */
import { createServer, Socket, type Server } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  readonly isCut: boolean;
  cut(): void;
  heal(): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let isCut = false;
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    // Plain data listeners rather than pipe(): pipe() resumes a source on 'drain', which would undo a cut.
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    if (isCut) {
      client.pause();
      upstream.pause();
    }
    upstream.connect(target.port, target.host);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const everySocket = (action: (socket: Socket) => void): void => {
    for (const [client, upstream] of pairs) {
      action(client);
      action(upstream);
    }
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get isCut() {
      return isCut;
    },
    cut() {
      isCut = true;
      everySocket((socket) => socket.pause());
    },
    heal() {
      isCut = false;
      everySocket((socket) => socket.resume());
    },
    reset() {
      everySocket((socket) => socket.destroy());
    },
    close: () =>
      new Promise<void>((resolve) => {
        everySocket((socket) => socket.destroy());
        server.close(() => resolve());
      }),
  };
}
