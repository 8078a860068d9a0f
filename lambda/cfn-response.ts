import * as http from 'http';
import * as https from 'https';
import type { CustomResourceResponse } from '../lib/private/contract';

/**
 * PUTs the answer to CloudFormation's pre-signed URL, retrying a few times: a lost answer would
 * leave the stack waiting for the custom resource timeout.
 */
export async function sendResponse(responseUrl: string, body: CustomResourceResponse, attempts = 4): Promise<void> {
  const payload = Buffer.from(JSON.stringify(body));
  for (let attempt = 1; ; attempt++) {
    try {
      await put(responseUrl, payload);
      return;
    } catch (e) {
      if (attempt >= attempts) throw e;
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
}

function put(url: string, payload: Buffer): Promise<void> {
  const parsed = new URL(url);
  const transport = parsed.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = transport.request(parsed, {
      method: 'PUT',
      // The URL is pre-signed for an empty content type.
      headers: { 'content-type': '', 'content-length': payload.length },
      timeout: 10_000,
    }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode && res.statusCode < 300 ? resolve() : reject(new Error(`ResponseURL answered HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('ResponseURL timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}
