import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

export interface HoldingProxy {
  /** `url` with its port replaced by the proxy's. */
  url: string;
  /** How many connections the proxy has accepted. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of the Redis at `url` that lets its first connection through at once and
 * holds every later one `holdMs` before passing it on: an app's access check at start succeeds,
 * and its own connections are slow to come up, as a TLS handshake to a busy Redis may be.
 */
export async function startHoldingProxy(url: string, holdMs: number): Promise<HoldingProxy> {
  const target = new URL(url);
  const upstreamPort = Number(target.port);
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let accepted = 0;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    accepted += 1;
    track(client);
    const pipe = () => {
      const upstream = connect(upstreamPort, target.hostname);
      track(upstream);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    };
    if (accepted === 1) return pipe();
    const timer = setTimeout(() => {
      timers.delete(timer);
      pipe();
    }, holdMs);
    timers.add(timer);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  target.port = String((server.address() as { port: number }).port);
  return {
    url: target.toString(),
    connections: () => accepted,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
