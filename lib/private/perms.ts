/**
 * KMS action lists, in one place. The partner lists are what the KMS console's key users section
 * ("Other AWS accounts") writes into a key policy for each key type: "Default key policy", key
 * users (docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-users)
 * and "Key policies for HMAC KMS keys" (docs.aws.amazon.com/kms/latest/developerguide/hmac-authz.html).
 */

/** The console's key types: symmetric and asymmetric encryption keys get different statements. */
export type PartnerKeyType = 'SYMMETRIC_ENCRYPTION' | 'ASYMMETRIC_ENCRYPTION' | 'SIGN_VERIFY' | 'GENERATE_VERIFY_MAC' | 'KEY_AGREEMENT';

export const PARTNER_USE_ACTIONS: Readonly<Record<PartnerKeyType, readonly string[]>> = {
  SYMMETRIC_ENCRYPTION: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
  // Data keys come from symmetric keys only; an RSA key's users read its public key instead.
  ASYMMETRIC_ENCRYPTION: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:DescribeKey', 'kms:GetPublicKey'],
  SIGN_VERIFY: ['kms:Sign', 'kms:Verify', 'kms:DescribeKey', 'kms:GetPublicKey'],
  GENERATE_VERIFY_MAC: ['kms:GenerateMac', 'kms:VerifyMac', 'kms:DescribeKey'],
  KEY_AGREEMENT: ['kms:DeriveSharedSecret', 'kms:DescribeKey', 'kms:GetPublicKey'],
};

export function partnerKeyType(keySpec: string, keyUsage: string): PartnerKeyType {
  if (keyUsage === 'ENCRYPT_DECRYPT') return keySpec === 'SYMMETRIC_DEFAULT' ? 'SYMMETRIC_ENCRYPTION' : 'ASYMMETRIC_ENCRYPTION';
  return keyUsage as PartnerKeyType;
}

/**
 * "Allow attachment of persistent resources": grants, only for AWS services acting for the
 * partner. The console writes it for symmetric encryption keys only: the AWS services that create
 * grants (EBS, RDS, ...) integrate with symmetric encryption keys.
 */
export const PARTNER_GRANT_ACTIONS = ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'];

/** What the import handler needs on the key for every import. */
export const IMPORT_ACTIONS = ['kms:GetParametersForImport', 'kms:ImportKeyMaterial', 'kms:DescribeKey'];

/** Only when the user asked for crypto-shredding on removal. */
export const DELETE_MATERIAL_ACTIONS = ['kms:DeleteImportedKeyMaterial'];

export const SECRET_READ_ACTIONS = ['secretsmanager:GetSecretValue'];

export const KEY_AGREEMENT_ACTIONS = ['kms:DeriveSharedSecret'];

/** Only when the user opted into rotation to new material. */
export const ROTATE_ACTIONS = ['kms:RotateKeyOnDemand'];
