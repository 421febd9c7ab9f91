/** authenticate(): scheme detection, precedence, anonymous and mixed requests, signatureDetails. */
import { describe, expect, test } from "vitest";
import { authenticate, detectScheme, signatureDetails } from "../../src/auth/authenticate.js";
import { S3Error } from "../../src/protocol/errors.js";
import type { AuthInput } from "../../src/auth/types.js";
import { s3err } from "./helpers.js";

function input(headers: Record<string, string> = {}, rawQuery = "", rawPath = "/b/k"): AuthInput {
  const h: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = [v];
  return { method: "GET", rawPath, rawQuery, headers: h };
}


const none = () => undefined;

describe("detectScheme", () => {
  test.each([
    [input({ authorization: "AWS4-HMAC-SHA256 Credential=x" }), "sigv4-header"],
    [input({ authorization: "AWS4-HMAC-SHA256" }), "sigv4-header"],
    [input({ authorization: "AWS AKID:sig" }), "sigv2-header"],
    [input({}, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=x"), "sigv4-presigned"],
    [input({}, "AWSAccessKeyId=AK&Expires=1&Signature=x"), "sigv2-presigned"],
    [input({}, "Signature=x"), "sigv2-presigned"],
    [input({}, "prefix=a&list-type=2"), "anonymous"],
    [input({ authorization: "  " }), "anonymous"],
  ])("%# → %s", (req, scheme) => {
    expect(detectScheme(req)).toBe(scheme);
  });

  test("mixing the header with query auth → 400 InvalidArgument", () => {
    for (const q of ["X-Amz-Algorithm=AWS4-HMAC-SHA256", "AWSAccessKeyId=x", "Signature=x"]) {
      const err = s3err(() => detectScheme(input({ authorization: "AWS4-HMAC-SHA256 Credential=x" }, q)));
      expect([err.code, err.status]).toEqual(["InvalidArgument", 400]);
    }
  });

  test("unknown Authorization types → 400 InvalidArgument; SigV4a → 501", () => {
    for (const value of ["Bearer token", "Basic dXNlcjpwYXNz", "AWS3 x", "aws4-hmac-sha256 Credential=x"]) {
      const err = s3err(() => detectScheme(input({ authorization: value })));
      expect([err.code, err.status, err.message]).toEqual(["InvalidArgument", 400, "Unsupported Authorization Type"]);
    }
    expect(s3err(() => detectScheme(input({ authorization: "AWS4-ECDSA-P256-SHA256 Credential=x" }))).status).toBe(501);
  });
});

describe("authenticate", () => {
  test("no credentials at all → 403 AccessDenied", () => {
    const err = s3err(() => authenticate(input({ host: "h" }), none));
    expect([err.code, err.status]).toEqual(["AccessDenied", 403]);
    expect(err.message).toMatch(/Anonymous access is not allowed/);
  });

  test("each scheme reaches its verifier", () => {
    expect(s3err(() => authenticate(input({ authorization: "AWS4-HMAC-SHA256 junk" }), none)).code).toBe("AuthorizationHeaderMalformed");
    expect(s3err(() => authenticate(input({}, "X-Amz-Algorithm=AWS4-HMAC-SHA256"), none)).code).toBe("AuthorizationQueryParametersError");
    expect(s3err(() => authenticate(input({ authorization: "AWS AK:sig", date: new Date().toUTCString() }), none)).code).toBe("InvalidAccessKeyId");
    expect(s3err(() => authenticate(input({}, "AWSAccessKeyId=AK&Signature=s&Expires=9999999999"), none)).code).toBe("InvalidAccessKeyId");
  });

  test("signatureDetails pulls the diagnostics out of SignatureDoesNotMatch only", () => {
    const err = new S3Error("SignatureDoesNotMatch", {
      extras: { AWSAccessKeyId: "AK", StringToSign: "sts", SignatureProvided: "sig", StringToSignBytes: "73", CanonicalRequest: "creq", CanonicalRequestBytes: "63" },
    });
    expect(signatureDetails(err)).toEqual({ accessKeyId: "AK", canonicalRequest: "creq", stringToSign: "sts", signatureProvided: "sig" });
    expect(signatureDetails(new S3Error("AccessDenied"))).toBeUndefined();
    expect(signatureDetails(new Error("x"))).toBeUndefined();
  });
});
