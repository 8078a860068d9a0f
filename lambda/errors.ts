/**
 * The handler's one error type: a stable code (shared with the construct, see lib/private/contract)
 * and a message for CloudFormation's event log. Messages name resources, lengths, curves and
 * sizes; never key material, and never text copied from a secret value.
 */
export class ImportError extends Error {
  constructor(public readonly code: string, message: string) {
    super(message);
    this.name = 'ImportError';
  }
}
