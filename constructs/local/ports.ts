// Loopback ports: picking free ones at `up`, and proving at `down` that nothing listens any more.
import { createConnection, createServer } from 'node:net';
import { ExternalError } from '../model/errors.js';

/** A server could not bind its port (another program holds it). */
export class PortInUseError extends ExternalError {}

export const LOOPBACK = '127.0.0.1';

/** A port the kernel gives out as free on `host` (a loopback address) right now, not in `avoid`. */
export async function pickFreePort(avoid: ReadonlySet<number> = new Set(), host = LOOPBACK): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.once('error', reject);
      server.listen({ host, port: 0, exclusive: true }, () => {
        const address = server.address();
        const chosen = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(chosen));
      });
    });
    // Redis cluster buses use port + 10000 in later levels: stay below 55536.
    if (port > 0 && port < 55536 && !avoid.has(port)) return port;
  }
  throw new ExternalError(
    `no free port found on ${host} after 20 tries`,
    'free some ports (labforge status lists the labs holding them), then run the command again',
  );
}

/** True when something accepts TCP connections on host:port. */
export function isListening(port: number, host = LOOPBACK, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(true)); // a filtered port: treat as taken
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True when host:port can be bound right now (nothing listens, nothing holds it). */
export function canBind(port: number, host = LOOPBACK): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
