import { EventEmitter } from 'events';
import * as http from 'http';
import { sendResponse } from '../../lambda/cfn-response';
import type { CustomResourceResponse } from '../../lib/private/contract';

const body: CustomResourceResponse = {
  Status: 'SUCCESS', PhysicalResourceId: 'p', StackId: 'stack', RequestId: 'req-1', LogicalResourceId: 'KeyImport', Data: { KeyArn: 'k' },
};

/** A local ResponseURL that answers each PUT with the next status of `statuses` (the last one repeats). */
async function responseServer(statuses: number[]) {
  const received: { method?: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let b = '';
    req.on('data', (d) => { b += d; }).on('end', () => {
      received.push({ method: req.method, body: b });
      res.statusCode = statuses[Math.min(received.length - 1, statuses.length - 1)];
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as any).port}/response?X-Amz-Signature=abc`;
  return { url, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

afterEach(() => jest.restoreAllMocks());

describe('sendResponse', () => {
  test('a ResponseURL that answers 500 and then 200 is retried, and the same body arrives twice', async () => {
    const server = await responseServer([500, 200]);
    try {
      await sendResponse(server.url, body);
      expect(server.received).toHaveLength(2);
      expect(server.received.map((r) => r.method)).toEqual(['PUT', 'PUT']);
      expect(JSON.parse(server.received[1].body)).toEqual(body);
      expect(server.received[0].body).toBe(server.received[1].body);
    } finally {
      await server.close();
    }
  });

  test('a ResponseURL that keeps failing throws the last HTTP status after the given attempts', async () => {
    const server = await responseServer([503]);
    try {
      await expect(sendResponse(server.url, body, 2)).rejects.toThrow('ResponseURL answered HTTP 503');
      expect(server.received).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  test('a 3xx answer is not a success', async () => {
    const server = await responseServer([302]);
    try {
      await expect(sendResponse(server.url, body, 1)).rejects.toThrow('ResponseURL answered HTTP 302');
      expect(server.received).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  test('an https ResponseURL is sent over TLS: a plain HTTP server refuses the handshake', async () => {
    const server = await responseServer([200]);
    try {
      await expect(sendResponse(server.url.replace('http:', 'https:'), body, 1)).rejects.toMatchObject({ code: 'EPROTO', message: expect.stringMatching(/wrong version number/) });
      expect(server.received).toHaveLength(0);
    } finally {
      await server.close();
    }
  });

  test('a ResponseURL that does not answer within the timeout is abandoned with a timeout error', async () => {
    let destroyedWith: Error | undefined;
    // The module object itself (an `import * as` namespace has read-only bindings).
    const httpModule: typeof http = require('http');
    jest.spyOn(httpModule, 'request').mockImplementation(((_url: URL, options: http.RequestOptions) => {
      expect(options).toMatchObject({ method: 'PUT', timeout: 10_000, headers: { 'content-type': '' } });
      const req = new EventEmitter() as EventEmitter & { destroy: (e: Error) => void; end: () => void };
      req.destroy = (e: Error) => { destroyedWith = e; req.emit('error', e); };
      req.end = () => { setImmediate(() => req.emit('timeout')); };
      return req;
    }) as unknown as typeof http.request);
    await expect(sendResponse('http://127.0.0.1:9/response', body, 1)).rejects.toThrow('ResponseURL timed out');
    expect(destroyedWith?.message).toBe('ResponseURL timed out');
  });
});
