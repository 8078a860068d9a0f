/**
 * Secrets Manager errors as they travel on the JSON 1.1 wire: `{"__type": "<Name>", "Message": "..."}`,
 * HTTP 400 (500 for InternalServiceError). Names and messages are AWS's ("AWS Secrets Manager API
 * Reference", Errors of each operation).
 */
export class SecretsManagerError extends Error {
  constructor(readonly type: string, readonly awsMessage: string, readonly status = 400) {
    super(`${type}: ${awsMessage}`);
    this.name = type;
  }

  toBody(): { __type: string; Message: string } {
    return { __type: this.type, Message: this.awsMessage };
  }
}

const error = (type: string) => (message: string) => new SecretsManagerError(type, message);

export const invalidParameter = error('InvalidParameterException');
export const invalidRequest = error('InvalidRequestException');
export const resourceExists = error('ResourceExistsException');
export const notFound = error('ResourceNotFoundException');
export const malformedPolicy = error('MalformedPolicyDocumentException');
export const publicPolicy = error('PublicPolicyException');
export const decryptionFailure = error('DecryptionFailure');
export const encryptionFailure = error('EncryptionFailure');
export const accessDenied = error('AccessDeniedException');
export const validation = error('ValidationException');
export const secretNotFound = () => notFound("Secrets Manager can't find the specified secret.");
export const unknownOperation = () => new SecretsManagerError('UnknownOperationException', 'The requested operation is not recognised.');
export const serialization = (message: string) => new SecretsManagerError('SerializationException', message);
export const internal = (message: string) => new SecretsManagerError('InternalServiceError', message, 500);
