/** A stand-in CRM on 127.0.0.1 that prints each payload it receives and answers 200. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startCrmSink(print: (payload: unknown) => void): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        print(JSON.parse(text));
      } catch {
        print(text);
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/crm/calls/webhook/is`, server };
}
