/**
 * A dependency that accepts TCP connections and never answers (the AWS SDK's
 * requestTimeout alone does not abort such a request, it only logs a warning): the fault that holds a request until Lambda kills it unless
 * every call is bounded. 127.0.0.1 only.
 */
import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';

export interface BlackHole {
  endpoint: string;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function startBlackHole(): Promise<BlackHole> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    // Read and discard whatever is sent; never write a byte back.
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => accepted,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
