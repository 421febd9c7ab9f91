/**
 * Versioning failures, independent of the protocol: the S3 gateway and the REST API each map a
 * kind to their own code and status (REST: {message} with 400/404/409/412).
 */
export type VersioningErrorKind = "not_found" | "conflict" | "bad_request" | "precondition";

export class VersioningError extends Error {
  constructor(
    readonly kind: VersioningErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "VersioningError";
  }
}

export const notFound = (what: string) => new VersioningError("not_found", `${what}: not found`);
export const conflict = (message: string) => new VersioningError("conflict", message);
export const badRequest = (message: string) => new VersioningError("bad_request", message);
