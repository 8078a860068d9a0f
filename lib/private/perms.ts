/**
 * KMS action lists, in one place. The partner lists are what the KMS console's
 * "Other AWS accounts" section writes into a key policy for each key usage
 * (docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-users).
 */

export const PARTNER_USE_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  ENCRYPT_DECRYPT: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
  SIGN_VERIFY: ['kms:Sign', 'kms:Verify', 'kms:GetPublicKey', 'kms:DescribeKey'],
  GENERATE_VERIFY_MAC: ['kms:GenerateMac', 'kms:VerifyMac', 'kms:DescribeKey'],
  KEY_AGREEMENT: ['kms:DeriveSharedSecret', 'kms:GetPublicKey', 'kms:DescribeKey'],
};

/** "Allow attachment of persistent resources": grants, only for AWS services acting for the partner. */
export const PARTNER_GRANT_ACTIONS = ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'];

/** What the import handler needs on the key for every import. */
export const IMPORT_ACTIONS = ['kms:GetParametersForImport', 'kms:ImportKeyMaterial', 'kms:DescribeKey'];

/** Only when the user asked for crypto-shredding on removal. */
export const DELETE_MATERIAL_ACTIONS = ['kms:DeleteImportedKeyMaterial'];

export const SECRET_READ_ACTIONS = ['secretsmanager:GetSecretValue'];

export const KEY_AGREEMENT_ACTIONS = ['kms:DeriveSharedSecret'];

/** Only when the user opted into rotation to new material. */
export const ROTATE_ACTIONS = ['kms:RotateKeyOnDemand'];
