/**
 * Grants, as far as authorization needs them: CreateGrant, ListGrants, RevokeGrant, RetireGrant
 * ("Grants in AWS KMS", KMS Developer Guide). A grant takes effect at once here (KMS is eventually
 * consistent and offers grant tokens for that; the emulator accepts and ignores them).
 */
import * as crypto from 'crypto';
import { epoch, Handler, paginate } from '../context';
import { notFound, validation } from '../errors';
import { resolveKey } from '../resolve';
import { Input, KEY_ID } from '../validation';

const GRANT_OPERATIONS = [
  'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'Sign', 'Verify',
  'GetPublicKey', 'CreateGrant', 'RetireGrant', 'DescribeKey', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext',
  'GenerateMac', 'VerifyMac', 'DeriveSharedSecret',
] as const;
const PRINCIPAL = { min: 1, max: 256, pattern: /^[\w+=,.@:/-]+$/ } as const;

const createGrant: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  const granteePrincipal = input.string('GranteePrincipal', { required: true, ...PRINCIPAL });
  const retiringPrincipal = input.string('RetiringPrincipal', PRINCIPAL);
  const operations = input.stringList('Operations') ?? [];
  const name = input.string('Name', { min: 1, max: 256 });
  const constraintsInput = input.structure('Constraints');
  const constraints = constraintsInput && {
    EncryptionContextEquals: constraintsInput.stringMap('EncryptionContextEquals'),
    EncryptionContextSubset: constraintsInput.stringMap('EncryptionContextSubset'),
  };
  constraintsInput?.done();
  input.stringList('GrantTokens');
  input.boolean('DryRun');
  input.done();
  if (operations.length === 0) throw validation("1 validation error detected: Value at 'operations' failed to satisfy constraint: Member must have length greater than or equal to 1");
  for (const op of operations) {
    if (!(GRANT_OPERATIONS as readonly string[]).includes(op)) throw validation(`1 validation error detected: Value '[${operations.join(', ')}]' at 'operations' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [${GRANT_OPERATIONS.join(', ')}]]`);
  }
  const key = resolveKey(ctx, keyId);
  const grant = {
    grantId: crypto.randomBytes(32).toString('hex'),
    token: crypto.randomBytes(64).toString('base64url'),
    name,
    granteePrincipal,
    retiringPrincipal,
    operations,
    constraints,
    issuingAccount: ctx.authz.caller.principal.account,
    creationDate: ctx.now,
  };
  (key.grants ??= []).push(grant);
  return { GrantId: grant.grantId, GrantToken: grant.token };
};

const listGrants: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  const limit = input.integer('Limit', { min: 1, max: 100 });
  const marker = input.string('Marker', { min: 1, max: 1024 });
  const grantId = input.string('GrantId', { min: 1, max: 128 });
  const granteePrincipal = input.string('GranteePrincipal', PRINCIPAL);
  input.done();
  const key = resolveKey(ctx, keyId);
  const grants = (key.grants ?? [])
    .filter((g) => (grantId === undefined || g.grantId === grantId) && (granteePrincipal === undefined || g.granteePrincipal === granteePrincipal))
    .map((g) => ({
      KeyId: key.arn, GrantId: g.grantId, Name: g.name ?? '', CreationDate: epoch(g.creationDate), GranteePrincipal: g.granteePrincipal,
      RetiringPrincipal: g.retiringPrincipal, IssuingAccount: `arn:aws:iam::${g.issuingAccount}:root`, Operations: g.operations, Constraints: g.constraints,
    }));
  const { page, ...rest } = paginate(grants, limit ?? 50, marker);
  return { Grants: page, ...rest };
};

function removeGrant(input: Input, ctx: Parameters<Handler>[0], idMember: 'GrantId'): Record<string, unknown> {
  const keyId = input.string('KeyId', KEY_ID);
  const grantId = input.string(idMember, { required: true, min: 1, max: 128 });
  input.boolean('DryRun');
  input.done();
  const key = resolveKey(ctx, keyId);
  const i = (key.grants ?? []).findIndex((g) => g.grantId === grantId);
  if (i < 0) throw notFound(`Grant ID ${grantId} not found`);
  key.grants!.splice(i, 1);
  return {};
}

export const grantOperations: Record<string, Handler> = {
  CreateGrant: createGrant,
  ListGrants: listGrants,
  RevokeGrant: (ctx, input) => removeGrant(input, ctx, 'GrantId'),
};
