/**
 * KMS errors as they travel on the wire: `{"__type": "<Name>", "message": "..."}` (the AWS
 * JSON 1.1 protocol; KMS API reference, "Common Errors").
 *
 * Status codes follow what the JSON endpoint really returns, not the Smithy `httpError` traits:
 * every client fault is 400, KMSInternalException / DependencyTimeoutException are 500.
 * Where AWS sends no message at all (InvalidCiphertextException, KMSInvalidSignatureException,
 * KMSInvalidMacException, UnsupportedOperationException from RotateKeyOnDemand on a non-symmetric
 * key) the `message` member is omitted rather than sent empty (AWS-rec).
 */
export class KmsError extends Error {
  constructor(
    readonly type: string,
    readonly kmsMessage?: string,
    readonly status: number = 400,
  ) {
    super(kmsMessage ? `${type}: ${kmsMessage}` : type);
    this.name = type;
  }

  toBody(): { __type: string; message?: string } {
    return this.kmsMessage === undefined ? { __type: this.type } : { __type: this.type, message: this.kmsMessage };
  }
}

export const validation = (message: string) => new KmsError('ValidationException', message);
export const notFound = (message: string) => new KmsError('NotFoundException', message);
export const invalidState = (message: string) => new KmsError('KMSInvalidStateException', message);
export const disabled = (message: string) => new KmsError('DisabledException', message);
export const unsupported = (message?: string) => new KmsError('UnsupportedOperationException', message);
export const invalidKeyUsage = (message: string) => new KmsError('InvalidKeyUsageException', message);
export const incorrectKeyMaterial = (message?: string) => new KmsError('IncorrectKeyMaterialException', message);
export const invalidCiphertext = () => new KmsError('InvalidCiphertextException');
export const invalidImportToken = () => new KmsError('InvalidImportTokenException');
export const expiredImportToken = () => new KmsError('ExpiredImportTokenException');
export const alreadyExists = (message: string) => new KmsError('AlreadyExistsException', message);
export const limitExceeded = (message: string) => new KmsError('LimitExceededException', message);
export const tagError = (message: string) => new KmsError('TagException', message);
export const incorrectKey = () =>
  new KmsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
export const internal = (message = 'An internal error occurred.') => new KmsError('KMSInternalException', message, 500);
export const serialization = (message: string) => new KmsError('SerializationException', message);
export const unknownOperation = () => new KmsError('UnknownOperationException');
// The wording of the AWS KMS Developer Guide, "Throttling AWS KMS requests".
export const throttling = () => new KmsError('ThrottlingException', 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.');
