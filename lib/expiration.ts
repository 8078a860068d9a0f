import { Annotations, Duration, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { ErrorCodes, ExpirationProperties } from './private/contract';
import { ByokError } from './private/errors';

import { MAX_VALIDITY_DAYS } from './private/import-rules';

/**
 * When imported key material expires. KMS deletes expired material and the key becomes unusable
 * (PendingImport) until the same material is imported again.
 */
export class KeyMaterialExpiration {
  /** The material never expires (the default). */
  public static never(): KeyMaterialExpiration {
    return new KeyMaterialExpiration(undefined, undefined);
  }

  /**
   * The material expires this long after each import (at most 365 days). Every re-import, such as
   * a scheduled renewal, starts the period again.
   */
  public static after(validity: Duration): KeyMaterialExpiration {
    return new KeyMaterialExpiration(validity, undefined);
  }

  /**
   * The material expires at this moment, which must be in the future and at most 365 days after
   * each import. Checked when the import happens (a synth only warns: it must not depend on the date).
   */
  public static at(validTo: Date): KeyMaterialExpiration {
    return new KeyMaterialExpiration(undefined, validTo);
  }

  private constructor(private readonly validity?: Duration, private readonly validTo?: Date) {}

  /** Whether the material expires at all. */
  public get expires(): boolean {
    return this.validity !== undefined || this.validTo !== undefined;
  }

  /** @internal */
  public _bind(scope: IConstruct, now: Date = new Date()): ExpirationProperties {
    if (this.validity) {
      const seconds = this.validity.toSeconds();
      // A deploy-time value (a CfnParameter): CloudFormation resolves it, the handler checks it.
      if (Token.isUnresolved(seconds)) {
        return { Model: 'KEY_MATERIAL_EXPIRES', ValidForSeconds: Token.asString(seconds) };
      }
      if (seconds <= 0 || seconds > MAX_VALIDITY_DAYS * 86400) {
        throw new ByokError(ErrorCodes.EXPIRATION, `expiration after ${this.validity.toHumanString()} is not valid: KMS accepts a validity of more than 0 and at most ${MAX_VALIDITY_DAYS} days`, scope);
      }
      return { Model: 'KEY_MATERIAL_EXPIRES', ValidForSeconds: String(seconds) };
    }
    if (this.validTo) {
      const ms = this.validTo.getTime();
      if (Number.isNaN(ms)) {
        throw new ByokError(ErrorCodes.EXPIRATION, 'expiration date is not a valid date', scope);
      }
      // Only a warning: a synth must not depend on today's date (an app that deployed fine would
      // stop synthesizing once the date passes). The handler enforces both bounds at each import.
      if (ms <= now.getTime()) {
        Annotations.of(scope).addWarningV2('cdk-kms-byok:expiration-past', `expiration date ${this.validTo.toISOString()} is in the past: every import of this material will fail ([${ErrorCodes.EXPIRATION}]); set a future date (KMS needs one)`);
      } else if (ms > now.getTime() + MAX_VALIDITY_DAYS * 86400_000) {
        Annotations.of(scope).addWarningV2('cdk-kms-byok:expiration-too-far', `expiration date ${this.validTo.toISOString()} is more than ${MAX_VALIDITY_DAYS} days away: an import before ${new Date(ms - MAX_VALIDITY_DAYS * 86400_000).toISOString()} will fail ([${ErrorCodes.EXPIRATION}]); KMS accepts at most ${MAX_VALIDITY_DAYS} days from the import`);
      }
      return { Model: 'KEY_MATERIAL_EXPIRES', ValidTo: this.validTo.toISOString() };
    }
    return { Model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' };
  }
}
