/** An AWS service error as the SDK understands it: the exception name, the HTTP status and a message. */
export class AwsError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

export const notFound = (what: string) => new AwsError("ResourceNotFoundException", 404, `${what} does not exist`);
export const invalid = (message: string) => new AwsError("InvalidRequestException", 400, message);
export const conflict = (message: string) => new AwsError("ResourceAlreadyExistsException", 409, message);
export const stateError = (message: string) => new AwsError("CertificateStateException", 406, message);
export const deleteConflict = (message: string) => new AwsError("DeleteConflictException", 409, message);
export const certInvalid = (message: string) => new AwsError("CertificateValidationException", 400, message);
