import {
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  GetParametersForImportCommand,
  GetParametersForImportCommandOutput,
  ImportKeyMaterialCommand,
  KMSClient,
  RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms';
import { ErrorCodes, ImportAttributes, ImportResourceProperties } from '../lib/private/contract';
import { checkImportCombination, defaultImportType, MAX_VALIDITY_DAYS } from '../lib/private/import-rules';
import { kmsClient, parseArn } from './aws';
import { ImportError } from './errors';
import { publishesParameters, publishParameters } from './sources/offline-wrap';
import { bringsParameters, describeSource, explainImportFailure, ImportParameters, mismatchRemedy, prepareSource, PreparedSource, SourceContext } from './sources/source';

/** What the handler answers CloudFormation with. */
export interface ImportResult {
  readonly physicalResourceId: string;
  readonly data: Record<string, string>;
}

export interface ImportContext {
  /** Aborted when the handler must stop to answer CloudFormation before the Lambda timeout. */
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
}

/** Create: import the material. Idempotent: a retried Create finds the same material and succeeds. */
export async function create(props: ImportResourceProperties, ctx: ImportContext): Promise<ImportResult> {
  return reportKeyState(props, await importMaterial(props, ctx), ctx);
}

/**
 * Update: re-import only when something that matters changed (the material reference or its
 * expiry, or the key itself); otherwise answer with the key's current state and change nothing.
 */
export async function update(props: ImportResourceProperties, old: ImportResourceProperties, ctx: ImportContext): Promise<ImportResult> {
  if (props.KeyArn === old.KeyArn && (props.KeySpec !== old.KeySpec || props.KeyUsage !== old.KeyUsage)) {
    throw new ImportError(ErrorCodes.UNSUPPORTED_UPDATE, `the key spec or usage of ${props.KeyArn} cannot change (${old.KeySpec}/${old.KeyUsage} to ${props.KeySpec}/${props.KeyUsage}); KMS keys are immutable in this respect, so create a new ExternalKey (new construct id) instead`);
  }
  const materialChanged = JSON.stringify(props.Material) !== JSON.stringify(old.Material);
  const changed = props.KeyArn !== old.KeyArn || materialChanged
    || JSON.stringify(props.Expiration) !== JSON.stringify(old.Expiration);
  if (!changed) return describe(props);
  if (!(materialChanged && props.RotateOnNewMaterial === 'true' && props.KeyArn === old.KeyArn)) return reportKeyState(props, await importMaterial(props, ctx), ctx);
  // The reference changed: it may still name the same material (a re-pinned version), which is
  // re-imported as EXISTING_KEY_MATERIAL; only material KMS calls new is rotated to. A rollback
  // after a rotation lands here too, with the earlier material: KMS cannot rotate back, so that
  // import succeeds but the key keeps the newer material, which reportKeyState then reports.
  try {
    return reportKeyState(props, await importMaterial(props, ctx), ctx);
  } catch (e) {
    if (!(e instanceof ImportError && e.code === ErrorCodes.MATERIAL_MISMATCH)) throw e;
  }
  return rotate(props, ctx);
}

/**
 * Rotation to new material on a symmetric key (docs.aws.amazon.com/kms/latest/developerguide/
 * rotating-keys-on-demand.html): import it as NEW_KEY_MATERIAL (it waits in PENDING_ROTATION),
 * then RotateKeyOnDemand makes it current. Older materials stay and still decrypt.
 */
async function rotate(props: ImportResourceProperties, ctx: ImportContext): Promise<ImportResult> {
  const imported = await importMaterial(props, ctx, 'NEW_KEY_MATERIAL');
  try {
    await kmsClient(keyRegion(props.KeyArn)).send(new RotateKeyOnDemandCommand({ KeyId: props.KeyArn }));
  } catch (e) {
    throw kmsError(e, props);
  }
  // On AWS the rotation completes asynchronously: answer once DescribeKey shows the new material
  // as current, so that the KeyMaterialId attribute never names material the key does not use.
  const target = materialId(imported);
  for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 4_000)) {
    const result = await describe(props);
    if (materialId(result) === target) {
      ctx.log?.('rotated to new key material', { keyArn: props.KeyArn, keyMaterialId: target });
      return result;
    }
    if (ctx.signal?.aborted) throw new ImportError(ErrorCodes.TIMEOUT, `key ${props.KeyArn} did not finish rotating to material ${target} before the deadline`);
    await new Promise((r) => setTimeout(r, delayMs));
  }
}

/**
 * Scheduled renewal: the same material again, with a fresh ValidTo. With `renewAfterSeconds` (the
 * rule fires daily or hourly at the key's own minute, lib/private/renewal-schedule.ts), only
 * material imported at least that long ago is renewed; otherwise nothing changes and the answer
 * is undefined. The import time is ValidTo minus the validity the material was imported with.
 * Fails loudly when the renewed material is not the key's current one (a rotation was rolled
 * back, or made outside the stack): the current material is then not renewed and will expire.
 */
export async function renew(props: ImportResourceProperties, ctx: ImportContext, renewAfterSeconds?: number): Promise<ImportResult | undefined> {
  const validFor = Number(props.Expiration.ValidForSeconds);
  if (renewAfterSeconds !== undefined && validFor > 0) {
    let validTo: Date | undefined;
    try {
      validTo = (await kmsClient(keyRegion(props.KeyArn)).send(new DescribeKeyCommand({ KeyId: props.KeyArn }))).KeyMetadata?.ValidTo;
    } catch (e) {
      throw kmsError(e, props);
    }
    const now = (ctx.now?.() ?? new Date()).getTime();
    // No ValidTo: the material has expired (PendingImport) or was deleted, so import it now.
    if (validTo && now < validTo.getTime() - validFor * 1000 + renewAfterSeconds * 1000) return undefined;
  }
  const imported = await importMaterial(props, ctx);
  const current = await reportKeyState(props, imported, ctx);
  if (materialId(imported) && materialId(current) !== materialId(imported)) {
    throw new ImportError(ErrorCodes.ROTATION, `renewed material ${materialId(imported)} of ${describeSource(props.Material)}, but key ${props.KeyArn} uses material ${materialId(current)}, which this renewal does not renew (a rotation was rolled back, or made outside the stack; KMS cannot rotate back). Deploy with the secret version that holds the current material (see docs/lifecycle.md)`);
  }
  return current;
}

/**
 * The answer after an import: the key's current material and expiry as DescribeKey reports them,
 * not those of the material just imported, which may be an earlier one (docs/lifecycle.md).
 */
async function reportKeyState(props: ImportResourceProperties, imported: ImportResult, ctx: ImportContext): Promise<ImportResult> {
  const current = await describe(props);
  if (materialId(imported) && materialId(current) !== materialId(imported)) {
    ctx.log?.('the imported material is not the key\'s current material; KMS cannot rotate back, so the key keeps using its current material', { keyArn: props.KeyArn, importedKeyMaterialId: materialId(imported), currentKeyMaterialId: materialId(current) });
  }
  return { physicalResourceId: imported.physicalResourceId, data: { ...imported.data, ...current.data } };
}

/**
 * Delete: leave the key's material alone unless the user asked for crypto-shredding. Only a
 * physical id that is the key ARN is acted on: a Create that failed early has none.
 */
export async function remove(props: ImportResourceProperties, physicalResourceId: string, ctx: ImportContext): Promise<ImportResult> {
  const result = { physicalResourceId, data: {} };
  if (!removeChangesState(props, physicalResourceId)) return result;
  const kms = kmsClient(keyRegion(props.KeyArn));
  try {
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: props.KeyArn }));
    ctx.log?.('deleted imported key material', { keyArn: props.KeyArn });
  } catch (e) {
    // Already gone: the key was deleted, is pending deletion, or never held material.
    const name = (e as Error).name;
    if (name !== 'NotFoundException' && name !== 'KMSInvalidStateException') throw kmsError(e, props);
  }
  return result;
}

/** Whether a Delete acts on KMS (crypto-shredding asked for, and the import had succeeded). */
export function removeChangesState(props: ImportResourceProperties | undefined, physicalResourceId: string): boolean {
  return props?.DeleteMaterialOnRemoval === 'true' && physicalResourceId === props.KeyArn;
}

async function importMaterial(props: ImportResourceProperties, ctx: ImportContext, importType?: 'NEW_KEY_MATERIAL'): Promise<ImportResult> {
  const arn = parseArn(props.KeyArn);
  if (!arn || arn.service !== 'kms' || !arn.resource.startsWith('key/')) {
    throw new ImportError(ErrorCodes.INVALID_PROPERTY, `KeyArn '${props.KeyArn}' is not a KMS key ARN`);
  }
  // Rules that depend on the partition could not be checked at synth time for env-agnostic stacks.
  const violation = checkImportCombination({
    keySpec: props.KeySpec, keyUsage: props.KeyUsage,
    wrappingAlgorithm: props.WrappingAlgorithm, wrappingKeySpec: props.WrappingKeySpec,
    partition: arn.partition,
  });
  if (violation) throw new ImportError(violation.code, violation.message);

  const kms = kmsClient(arn.region);
  if (props.Material.Type === 'OfflineWrap' && publishesParameters(props.Material)) {
    // Phase 1 of the offline flow: nothing is imported, so the expiry does not matter yet.
    try {
      const parametersValidTo = (await publishParameters(kms, props, props.Material)).toISOString();
      ctx.log?.('published import parameters', { keyArn: props.KeyArn, parametersValidTo });
      return { physicalResourceId: props.KeyArn, data: { ...resultData(props.KeyArn, undefined, undefined), [ImportAttributes.PARAMETERS_VALID_TO]: parametersValidTo } };
    } catch (e) {
      throw e instanceof ImportError ? e : kmsError(e, props);
    }
  }
  // An expiry that has passed fails before any secret is read.
  validToFor(props, ctx.now?.() ?? new Date());
  // A lost ImportKeyMaterial response makes the SDK's retry reuse a spent import token. KMS then
  // answers InvalidImportToken; starting over with fresh parameters succeeds, because importing
  // the same material again is allowed. Material wrapped offline is bound to its one token.
  const retries = bringsParameters(props.Material) ? 0 : 2;
  for (let attempt = 1; ; attempt++) {
    try {
      return await importOnce(kms, props, arn.partition, ctx, importType);
    } catch (e) {
      const name = (e as Error).name;
      if (attempt <= retries && (name === 'InvalidImportTokenException' || name === 'ExpiredImportTokenException')) {
        ctx.log?.('import token refused, starting over with fresh parameters', { keyArn: props.KeyArn, attempt, error: name });
        continue;
      }
      throw e instanceof ImportError ? e : kmsError(e, props);
    }
  }
}

async function importOnce(kms: KMSClient, props: ImportResourceProperties, partition: string, ctx: ImportContext, importType?: 'NEW_KEY_MATERIAL' | 'EXISTING_KEY_MATERIAL'): Promise<ImportResult> {
  // The two reads are independent: one round trip for both (parameters, and the secret or HSM).
  const [fresh, source] = await allOrClose(
    bringsParameters(props.Material) ? Promise.resolve(undefined) : kms.send(new GetParametersForImportCommand({
      KeyId: props.KeyArn,
      WrappingAlgorithm: props.WrappingAlgorithm as any,
      WrappingKeySpec: props.WrappingKeySpec as any,
    })),
    prepareSource(props.Material, sourceContext(props, partition, ctx.now?.() ?? new Date())),
  );
  let parameters: ImportParameters;
  let wrapped: Buffer;
  try {
    parameters = source.parameters ?? {
      publicKey: requireBytes(fresh?.PublicKey, 'PublicKey'),
      importToken: requireBytes(fresh?.ImportToken, 'ImportToken'),
    };
    wrapped = await source.wrap(parameters.publicKey, props.WrappingAlgorithm);
  } finally {
    await source.close();
  }
  // Past the deadline CloudFormation has been told the import failed: change nothing after that.
  if (ctx.signal?.aborted) throw new ImportError(ErrorCodes.TIMEOUT, 'stopped before ImportKeyMaterial: the deadline passed');
  const now = ctx.now?.() ?? new Date();
  const validTo = validToFor(props, now);
  const response = await kms.send(new ImportKeyMaterialCommand({
    KeyId: props.KeyArn,
    ImportToken: parameters.importToken,
    EncryptedKeyMaterial: wrapped,
    // KMS's own default is KEY_MATERIAL_EXPIRES, which then demands a ValidTo: always say it.
    ExpirationModel: props.Expiration.Model as any,
    ValidTo: validTo,
    // Omitted, KMS treats a key's first import as new and later ones as EXISTING_KEY_MATERIAL,
    // which is what makes a repeated import of the same material idempotent. The replica rule
    // (a replica takes only its primary's material) is defaultImportType's, for every source.
    ImportType: importType ?? defaultImportType(props),
  }));
  ctx.log?.('imported key material', { keyArn: props.KeyArn, keyMaterialId: response.KeyMaterialId, validTo: validTo?.toISOString() });
  return {
    physicalResourceId: props.KeyArn,
    data: resultData(props.KeyArn, response.KeyMaterialId, validTo),
  };
}

function sourceContext(props: ImportResourceProperties, partition: string, now: Date): SourceContext {
  return { keyArn: props.KeyArn, keySpec: props.KeySpec, partition, wrappingAlgorithm: props.WrappingAlgorithm, wrappingKeySpec: props.WrappingKeySpec, now };
}

async function describe(props: ImportResourceProperties): Promise<ImportResult> {
  const kms = kmsClient(keyRegion(props.KeyArn));
  try {
    const { KeyMetadata: meta } = await kms.send(new DescribeKeyCommand({ KeyId: props.KeyArn }));
    return { physicalResourceId: props.KeyArn, data: resultData(props.KeyArn, meta?.CurrentKeyMaterialId, meta?.ValidTo) };
  } catch (e) {
    throw kmsError(e, props);
  }
}

/** The KeyMaterialId attribute of an answer. */
export function materialId(result: ImportResult): string | undefined {
  return result.data[ImportAttributes.KEY_MATERIAL_ID];
}

function resultData(keyArn: string, keyMaterialId: string | undefined, validTo: Date | undefined): Record<string, string> {
  return {
    [ImportAttributes.KEY_ARN]: keyArn,
    [ImportAttributes.KEY_ID]: keyArn.substring(keyArn.indexOf(':key/') + 5),
    [ImportAttributes.KEY_MATERIAL_ID]: keyMaterialId ?? '',
    [ImportAttributes.VALID_TO]: validTo ? validTo.toISOString() : '',
  };
}

export function validToFor(props: ImportResourceProperties, now: Date): Date | undefined {
  const e = props.Expiration;
  if (e.Model === 'KEY_MATERIAL_DOES_NOT_EXPIRE') return undefined;
  if (e.Model !== 'KEY_MATERIAL_EXPIRES') {
    throw new ImportError(ErrorCodes.INVALID_PROPERTY, `Expiration.Model '${e.Model}' is not KEY_MATERIAL_EXPIRES or KEY_MATERIAL_DOES_NOT_EXPIRE`);
  }
  if (e.ValidForSeconds !== undefined) return new Date(now.getTime() + Number(e.ValidForSeconds) * 1000);
  const validTo = e.ValidTo ? new Date(e.ValidTo) : undefined;
  if (!validTo || Number.isNaN(validTo.getTime())) {
    throw new ImportError(ErrorCodes.INVALID_PROPERTY, 'Expiration has model KEY_MATERIAL_EXPIRES but no valid ValidTo or ValidForSeconds');
  }
  if (validTo.getTime() <= now.getTime()) {
    throw new ImportError(ErrorCodes.EXPIRATION, `the expiration date ${validTo.toISOString()} has passed; set a new KeyMaterialExpiration and deploy again`);
  }
  if (validTo.getTime() > now.getTime() + MAX_VALIDITY_DAYS * 86400_000) {
    throw new ImportError(ErrorCodes.EXPIRATION, `the expiration date ${validTo.toISOString()} is more than ${MAX_VALIDITY_DAYS} days after this import; KMS accepts at most ${MAX_VALIDITY_DAYS} days: set a nearer KeyMaterialExpiration and deploy again`);
  }
  return validTo;
}

function keyRegion(keyArn: string): string {
  const arn = parseArn(keyArn);
  if (!arn) throw new ImportError(ErrorCodes.INVALID_PROPERTY, `KeyArn '${keyArn}' is not a KMS key ARN`);
  return arn.region;
}

function requireBytes(value: Uint8Array | undefined, name: string): Uint8Array {
  if (!value || value.length === 0) throw new ImportError(ErrorCodes.AWS_ERROR, `GetParametersForImport returned no ${name}`);
  return value;
}

/** Settles both; if either fails, closes the source that did open (zeroing its material) and rethrows. */
async function allOrClose(
  parameters: Promise<GetParametersForImportCommandOutput | undefined>,
  source: Promise<PreparedSource>,
): Promise<[GetParametersForImportCommandOutput | undefined, PreparedSource]> {
  const [p, m] = await Promise.allSettled([parameters, source]);
  if (p.status === 'fulfilled' && m.status === 'fulfilled') return [p.value, m.value];
  if (m.status === 'fulfilled') await m.value.close();
  // The material source's error is usually the more useful one (a typo in a secret name).
  throw m.status === 'rejected' ? m.reason : (p as PromiseRejectedResult).reason;
}

/**
 * Turns a KMS error into a message that says what happened to which key and what to do; the
 * material source explains ImportKeyMaterial's refusals of its material where it knows better.
 */
function kmsError(e: unknown, props: ImportResourceProperties): Error {
  const err = e as { name?: string; message?: string };
  const explained = explainImportFailure(props, err.name);
  if (explained) return explained;
  const key = `key ${props.KeyArn}`;
  const detail = err.message ? `: ${err.message}` : '';
  switch (err.name) {
    case 'IncorrectKeyMaterialException':
      return new ImportError(ErrorCodes.MATERIAL_MISMATCH, `KMS refused the material from ${describeSource(props.Material)} for ${key}${detail}. A key holds the material first imported into it; the key keeps that material. ${mismatchRemedy(props.Material)}`);
    case 'InvalidCiphertextException':
      return new ImportError(ErrorCodes.AWS_ERROR, `KMS could not unwrap the material for ${key} with ${props.WrappingAlgorithm}/${props.WrappingKeySpec}${detail}`);
    case 'NotFoundException':
      return new ImportError(ErrorCodes.KEY_STATE, `${key} was not found${detail}`);
    case 'KMSInvalidStateException':
      if (/pending rotation/.test(err.message ?? '')) {
        return new ImportError(ErrorCodes.ROTATION, `${key} already has new key material pending rotation${detail}; KMS allows one at a time. Finish it (RotateKeyOnDemand) or delete it (DeleteImportedKeyMaterial with its KeyMaterialId), then deploy again`);
      }
      return new ImportError(ErrorCodes.KEY_STATE, `${key} is in a state that does not allow the import${detail}; a key pending deletion must be restored with CancelKeyDeletion first`);
    case 'LimitExceededException':
      return new ImportError(ErrorCodes.ROTATION, `${key} has reached KMS's limit of on-demand rotations${detail}; create a new ExternalKey for further new material`);
    case 'DisabledException':
      return new ImportError(ErrorCodes.KEY_STATE, `${key} is disabled${detail}; enable it first`);
    case 'UnsupportedOperationException':
      return new ImportError(ErrorCodes.KEY_STATE, `KMS does not support this import on ${key}${detail}`);
    case 'InvalidImportTokenException':
    case 'ExpiredImportTokenException':
      return new ImportError(ErrorCodes.IMPORT_TOKEN, `KMS refused the import token for ${key} (${err.name}) even after fresh parameters; deploy again`);
    case 'AccessDeniedException':
      return new ImportError(ErrorCodes.ACCESS_DENIED, `the import handler is not allowed to use ${key}${detail}; check the key policy`);
    default:
      return new ImportError(ErrorCodes.AWS_ERROR, `${err.name ?? 'Error'} from KMS for ${key}${detail}`);
  }
}
