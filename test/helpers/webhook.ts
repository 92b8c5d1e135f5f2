// An Alertmanager webhook receiver for the end-to-end tests: each notification it is posted,
// with the path it came to (one path per receiver), is pushed to `received`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startWebhook<T extends { path: string }>(received: T[]): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      try {
        received.push({ ...(JSON.parse(body) as Omit<T, 'path'>), path: req.url ?? '' } as T);
      } catch {
        // not a notification
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
