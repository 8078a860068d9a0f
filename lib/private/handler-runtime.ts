import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * The import handler's runtime: the one source of truth for the function's Lambda runtime, the
 * esbuild target of its bundle (scripts/bundle-handler.js) and the Node.js the benchmark runs it
 * on (bench/lambda-node.js).
 */
export const HANDLER_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** The handler's CPU architecture: the PKCS#11 bindings in the HSM asset are built for x86-64. */
export const HANDLER_ARCHITECTURE = lambda.Architecture.X86_64;

/** The Node.js major version of a `nodejs<N>.x` runtime. */
export function nodeMajorOf(runtime: lambda.Runtime): number {
  const m = /^nodejs(\d+)\.x$/.exec(runtime.name);
  if (!m) throw new Error(`${runtime.name} is not a Node.js runtime`);
  return Number(m[1]);
}

/** esbuild's `target` for the handler bundle: the runtime's Node.js version. */
export function handlerBundleTarget(): string {
  return `node${nodeMajorOf(HANDLER_RUNTIME)}`;
}

/** Where `npm run build` puts the handler assets (see scripts/bundle-handler.js). */
export const HANDLER_ASSETS = {
  /** The default handler: Secrets Manager and offline-wrapped material; no native code. */
  default: path.join(__dirname, '..', '..', 'assets', 'import-handler'),
  /** The same handler with the PKCS#11 bindings, for providers with an HSM connection. */
  pkcs11: path.join(__dirname, '..', '..', 'assets', 'import-handler-pkcs11'),
};
