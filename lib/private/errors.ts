import { IConstruct } from 'constructs';

/**
 * A synth-time error with a stable code (see `ErrorCodes`), a message that names the offending
 * value and what to do, and the path of the construct it belongs to. Never carries key material:
 * the construct never sees any.
 */
export class ByokError extends Error {
  public readonly code: string;

  constructor(code: string, message: string, scope?: IConstruct) {
    super(`[${code}] ${message}${scope ? ` (at ${scope.node.path})` : ''}`);
    this.name = 'ByokError';
    this.code = code;
  }
}
