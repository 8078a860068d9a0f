import { randomUUID } from 'crypto';
import * as https from 'https';

import type { CustomResourceResponse } from '../../lib/private/contract';
import { LocalTls, makeLocalTls } from './tls';

export type { CustomResourceResponse };

/**
 * Stands in for CloudFormation's pre-signed S3 ResponseURL: records every answer it receives.
 * HTTPS, as CloudFormation's URLs are (the handler refuses any other), with a local CA in `caFile`.
 */
export class ResponseServer {
  public static async start(): Promise<ResponseServer> {
    const server = new ResponseServer(await makeLocalTls());
    await new Promise<void>((resolve) => server.server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  private readonly server: https.Server;
  private readonly answers = new Map<string, CustomResourceResponse[]>();

  private constructor(private readonly tls: LocalTls) {
    this.server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        const id = (req.url ?? '').split('/').pop() ?? '';
        if (req.method !== 'PUT' || !this.answers.has(id)) {
          res.writeHead(403).end();
          return;
        }
        try {
          this.answers.get(id)!.push(JSON.parse(body));
          res.writeHead(200).end();
        } catch {
          res.writeHead(400).end();
        }
      });
    });
  }

  /** The CA certificate (PEM file) that signed the server's certificate: NODE_EXTRA_CA_CERTS for the handler. */
  public get caFile(): string {
    return this.tls.caFile;
  }

  /** A fresh ResponseURL. */
  public newUrl(): string {
    const id = randomUUID();
    this.answers.set(id, []);
    const { port } = this.server.address() as { port: number };
    return `https://127.0.0.1:${port}/cfn-response/${id}`;
  }

  /** Every answer received at a ResponseURL (normally exactly one). */
  public answersFor(url: string): CustomResourceResponse[] {
    return this.answers.get(url.split('/').pop() ?? '') ?? [];
  }

  public stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => {
      this.tls.dispose();
      resolve();
    }));
  }
}
