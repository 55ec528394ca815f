import http from 'node:http';

/** A request as the fakes see it: raw body bytes (signatures are over bytes), path, query. */
export interface FakeRequest {
  method: string;
  /** Path and query exactly as sent (what WeChat Pay signs). */
  rawUrl: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export interface LoopbackServer {
  baseUrl: string;
  stop(): Promise<void>;
}

/** Serves `handle` on 127.0.0.1 at a free port (never on a public interface). */
export async function startLoopbackServer(handle: (request: FakeRequest) => Promise<FakeResponse>): Promise<LoopbackServer> {
  const server = http.createServer((req, res) => {
    void (async () => {
      let response: FakeResponse;
      try {
        const body = await readBody(req);
        const rawUrl = req.url ?? '/';
        const url = new URL(rawUrl, 'http://127.0.0.1');
        response = await handle({ method: req.method ?? 'GET', rawUrl, path: url.pathname, query: url.searchParams, headers: req.headers, body });
      } catch (error) {
        response = { status: 500, body: `fake failed: ${error instanceof Error ? error.message : String(error)}` };
      }
      // The client may have timed out and gone; writing then is harmless but must not throw.
      if (res.destroyed) return;
      res.writeHead(response.status, response.headers);
      res.end(response.body);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('fake server has no TCP address');
  return {
    baseUrl: `http://127.0.0.1:${address.port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const jsonResponse = (status: number, value: unknown, headers: Record<string, string> = {}): FakeResponse => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: JSON.stringify(value),
});

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
