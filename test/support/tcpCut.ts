// A TCP relay in front of a server, for specs of a server that goes away under a client: everything
// passes through until `cut`, which ends every connection and refuses new ones, as a server gone would
// (or `drop`, which ends them and takes new ones, as a server that restarted would).
import { createServer, connect, type Socket } from 'node:net';

export type TcpCut = {
  /** the port clients connect to instead of the server's */
  readonly port: number;
  /** ends every connection through the relay and stops listening: the server is gone */
  readonly cut: () => Promise<void>;
  /** ends every connection through the relay and goes on listening: the server restarted */
  readonly drop: () => void;
};

export const tcpCut = async (host: string, port: number): Promise<TcpCut> => {
  const sockets = new Set<Socket>();
  const track = (s: Socket): Socket => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    // A connection cut on one side ends the other: neither has anything to report.
    s.on('error', () => undefined);
    return s;
  };
  const relay = createServer((client) => {
    track(client);
    const server = track(connect(port, host));
    client.pipe(server).on('error', () => client.destroy());
    server.pipe(client).on('error', () => server.destroy());
    client.once('close', () => server.destroy());
    server.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    relay.once('error', reject);
    relay.listen(0, '127.0.0.1', () => resolve());
  });
  const address = relay.address();
  if (address === null || typeof address === 'string') throw new Error('the relay has no port');
  return {
    port: address.port,
    drop: () => {
      for (const s of sockets) s.destroy();
    },
    cut: async () => {
      const closed = new Promise<void>((resolve) => relay.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
};
