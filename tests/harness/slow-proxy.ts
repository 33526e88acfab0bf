// A delaying TCP proxy: the "slow link" fault for test nodes (this kernel has no netem). Every
// chunk is held for a fixed latency in each direction, order preserved, optionally throttled to a
// bandwidth. Runs in-process (startSlowProxy) or as its own process:
//   node --import tsx tests/harness/slow-proxy.ts --listen <port> --target <port> [--delay-ms N] [--bytes-per-s N]
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const slowProxyOptions = z.object({
  listenHost: z.string().default('127.0.0.1'),
  listenPort: z.number().int().min(0).max(65535),
  targetHost: z.string().default('127.0.0.1'),
  targetPort: z.number().int().min(1).max(65535),
  /** Added to every chunk, each way: a 300 ms proxy makes one round trip ≥ 600 ms slower. */
  delayMs: z.number().int().min(0).max(120_000).default(300),
  /** Optional bandwidth cap per direction per connection. */
  bytesPerSecond: z.number().int().positive().optional(),
});
export type SlowProxyOptions = z.input<typeof slowProxyOptions>;

export interface SlowProxy {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * One direction of a connection: chunks leave `delayMs` after they arrived (and no earlier than
 * the bandwidth allows), in arrival order. Backpressure pauses the source while too much waits.
 */
function delayedPipe(from: Socket, to: Socket, delayMs: number, bytesPerSecond: number | undefined): void {
  const queue: { due: number; chunk: Buffer }[] = [];
  let queuedBytes = 0;
  let timer: NodeJS.Timeout | null = null;
  let nextFree = 0; // when the throttled link is free again
  let ended = false;

  const pump = () => {
    timer = null;
    const now = Date.now();
    while (queue.length > 0 && (queue[0] as { due: number }).due <= now) {
      const { chunk } = queue.shift() as { chunk: Buffer };
      queuedBytes -= chunk.length;
      if (!to.destroyed) to.write(chunk);
    }
    if (queuedBytes < 1 << 20 && from.isPaused()) from.resume();
    if (queue.length > 0) timer = setTimeout(pump, (queue[0] as { due: number }).due - now);
    else if (ended && !to.destroyed) to.end();
  };

  from.on('data', (chunk: Buffer) => {
    const now = Date.now();
    let due = now + delayMs;
    if (bytesPerSecond) {
      const start = Math.max(now, nextFree);
      nextFree = start + (chunk.length * 1000) / bytesPerSecond;
      due = Math.max(due, Math.ceil(nextFree));
    }
    const last = queue[queue.length - 1];
    if (last && last.due > due) due = last.due;
    queue.push({ due, chunk });
    queuedBytes += chunk.length;
    if (queuedBytes >= 1 << 20) from.pause();
    if (!timer) timer = setTimeout(pump, due - now);
  });
  from.on('end', () => {
    ended = true;
    if (!timer) pump();
  });
}

export async function startSlowProxy(input: SlowProxyOptions): Promise<SlowProxy> {
  const options = slowProxyOptions.parse(input);
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    track(client);
    const upstream = connect({ host: options.targetHost, port: options.targetPort });
    track(upstream);
    // A dead target looks like a dead node: the client's connection just closes.
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => {
      // Let delayed data drain before closing the client side.
      setTimeout(() => client.destroy(), options.delayMs + 50);
    });
    upstream.once('connect', () => {
      delayedPipe(client, upstream, options.delayMs, options.bytesPerSecond);
      delayedPipe(upstream, client, options.delayMs, options.bytesPerSecond);
      client.resume();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenPort, options.listenHost, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.listenPort;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function parseArgs(argv: readonly string[]): SlowProxyOptions {
  const value = (flag: string): string | undefined => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const int = (flag: string): number | undefined => {
    const raw = value(flag);
    if (raw === undefined) return undefined;
    if (!/^\d+$/.test(raw)) throw new Error(`${flag}: expected a whole number, got ${JSON.stringify(raw)}`);
    return Number(raw);
  };
  const listenPort = int('--listen');
  const targetPort = int('--target');
  if (listenPort === undefined || targetPort === undefined) {
    throw new Error('usage: slow-proxy.ts --listen <port> --target <port> [--delay-ms N] [--bytes-per-s N]');
  }
  return { listenPort, targetPort, delayMs: int('--delay-ms'), bytesPerSecond: int('--bytes-per-s') };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const proxy = await startSlowProxy(parseArgs(process.argv.slice(2)));
    process.stderr.write(`slow-proxy: 127.0.0.1:${proxy.port} → ${process.argv.slice(2).join(' ')}\n`);
    const stop = () => void proxy.close().then(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  } catch (err) {
    process.stderr.write(`slow-proxy: ${(err as Error).message}\n`);
    process.exit(2);
  }
}
