/** SigV4: encoding and canonicalisation units, AWS's published examples, and every error path. */
import { describe, expect, test } from "vitest";
import { authenticate } from "../../src/auth/authenticate.js";
import {
  EMPTY_SHA256,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  deriveSigningKey,
  hexBytes,
  hmacHex,
  parseAmzDate,
  parseAuthorizationV4,
  percentDecode,
  sha256Hex,
  stringToSign,
  uriEncode,
} from "../../src/auth/sigv4.js";
import type { AuthInput } from "../../src/auth/types.js";
import { KEY, lookup, request, s3err, SECRET } from "./helpers.js";

const SCOPE = "20130524/us-east-1/s3/aws4_request";
const DOC_NOW = new Date("2013-05-24T00:00:00Z");


function authHeader(signedHeaders: string, signature: string, scope = SCOPE, key = KEY): string {
  return `AWS4-HMAC-SHA256 Credential=${key}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}


/** Signs like a client would, with this module's own pieces (for error-path tests; SDK round trips live elsewhere). */
function signed(input: AuthInput, signedHeaders: string[], opts: { secret?: string; date?: string; region?: string } = {}): AuthInput {
  const amzDate = input.headers["x-amz-date"]?.[0] ?? "20130524T000000Z";
  const date = opts.date ?? amzDate.slice(0, 8);
  const scope = `${date}/${opts.region ?? "us-east-1"}/s3/aws4_request`;
  const creq = canonicalRequest({ ...input, signedHeaders, payloadHash: input.headers["x-amz-content-sha256"]?.[0] ?? "UNSIGNED-PAYLOAD" });
  const key = deriveSigningKey(opts.secret ?? SECRET, date, opts.region ?? "us-east-1", "s3");
  const sig = hmacHex(key, stringToSign(amzDate, scope, creq));
  return { ...input, headers: { ...input.headers, authorization: [authHeader(signedHeaders.join(";"), sig, scope)] } };
}

function basicGet(extra: Record<string, string> = {}): AuthInput {
  return request("GET", "/bucket/key", {
    host: "127.0.0.1:8000",
    "x-amz-date": "20130524T000000Z",
    "x-amz-content-sha256": EMPTY_SHA256,
    ...extra,
  });
}
const BASIC_SIGNED = ["host", "x-amz-content-sha256", "x-amz-date"];

describe("uriEncode / percentDecode", () => {
  test("keeps unreserved, encodes everything else upper-case, UTF-8", () => {
    expect(uriEncode("AZaz09-_.~", true)).toBe("AZaz09-_.~");
    expect(uriEncode("a b+c*!'()$&=,;:@", true)).toBe("a%20b%2Bc%2A%21%27%28%29%24%26%3D%2C%3B%3A%40");
    expect(uriEncode("é/ü", true)).toBe("%C3%A9%2F%C3%BC");
    expect(uriEncode("é/ü", false)).toBe("%C3%A9/%C3%BC");
    expect(uriEncode("😀", true)).toBe("%F0%9F%98%80");
    expect(uriEncode("%", true)).toBe("%25");
  });

  test("percentDecode decodes %XX only and never throws", () => {
    expect(percentDecode("a%20b+c").toString()).toBe("a b+c");
    expect(percentDecode("%zz%4").toString()).toBe("%zz%4");
    expect(percentDecode("%C3%A9x%e9").equals(Buffer.from([0xc3, 0xa9, 0x78, 0xe9]))).toBe(true);
    expect(percentDecode("%").toString()).toBe("%");
  });
});

describe("canonical URI", () => {
  test("decodes once and re-encodes with S3 rules, no normalisation", () => {
    expect(canonicalUri("")).toBe("/");
    expect(canonicalUri("/test$file.text")).toBe("/test%24file.text");
    expect(canonicalUri("/a//b/../c/./d/")).toBe("/a//b/../c/./d/");
    expect(canonicalUri("/a%20b%2Bc+d")).toBe("/a%20b%2Bc%2Bd");
    expect(canonicalUri("/fran%c3%a7ais")).toBe("/fran%C3%A7ais");
    expect(canonicalUri("/a%2Fb")).toBe("/a/b");
    expect(canonicalUri("/%7Euser")).toBe("/~user");
    expect(canonicalUri("/ключ")).toBe("/%D0%BA%D0%BB%D1%8E%D1%87");
  });

  test("invalid percent-encoding is taken literally", () => {
    expect(canonicalUri("/100%")).toBe("/100%25");
    expect(canonicalUri("/%zz/%4")).toBe("/%25zz/%254");
    expect(canonicalUri("/%ff%fe")).toBe("/%FF%FE"); // not UTF-8: bytes survive
  });
});

describe("canonical query", () => {
  test("sorts by key then value, keeps duplicates and empty values", () => {
    expect(canonicalQuery("")).toBe("");
    expect(canonicalQuery("lifecycle")).toBe("lifecycle=");
    expect(canonicalQuery("prefix=J&max-keys=2")).toBe("max-keys=2&prefix=J");
    expect(canonicalQuery("b=2&a=2&a=1&a")).toBe("a=&a=1&a=2&b=2");
    expect(canonicalQuery("z=1&%C3%A4=1")).toBe("%C3%A4=1&z=1");
  });

  test("re-encodes keys and values, + is a literal plus, / is encoded", () => {
    expect(canonicalQuery("prefix=a b*~")).toBe("prefix=a%20b%2A~");
    expect(canonicalQuery("prefix=a+b")).toBe("prefix=a%2Bb");
    expect(canonicalQuery("prefix=a%2bb%2Fc/d")).toBe("prefix=a%2Bb%2Fc%2Fd");
    expect(canonicalQuery("k=%zz")).toBe("k=%25zz");
    expect(canonicalQuery("a=1&&b=2&")).toBe("a=1&b=2");
  });

  test("X-Amz-Signature is left out only for presigned", () => {
    expect(canonicalQuery("X-Amz-Signature=abc&a=1", true)).toBe("a=1");
    expect(canonicalQuery("X-Amz-Signature=abc&a=1", false)).toBe("X-Amz-Signature=abc&a=1");
  });
});

describe("Authorization header parsing", () => {
  const sig = "a".repeat(64);
  test("tolerates the spacing and ordering variants SDKs produce", () => {
    for (const value of [
      `AWS4-HMAC-SHA256 Credential=${KEY}/${SCOPE}, SignedHeaders=host;x-amz-date, Signature=${sig}`,
      `AWS4-HMAC-SHA256 Credential=${KEY}/${SCOPE},SignedHeaders=host;x-amz-date,Signature=${sig}`,
      `AWS4-HMAC-SHA256  Credential=${KEY}/${SCOPE} ,  SignedHeaders=host;x-amz-date ,Signature=${sig} `,
      `AWS4-HMAC-SHA256 Signature=${sig.toUpperCase()}, Credential=${KEY}/${SCOPE}, SignedHeaders=Host;X-Amz-Date`,
    ]) {
      const parsed = parseAuthorizationV4(value);
      expect(parsed).toMatchObject({ accessKeyId: KEY, date: "20130524", region: "us-east-1", service: "s3", scope: SCOPE, signature: sig });
      expect(parsed.signedHeaders).toEqual(["host", "x-amz-date"]);
    }
  });

  test("the usual form, read with one expression, keeps each request's own credential and signed headers", () => {
    const usual = (credential: string, names: string, signature = sig) => `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=${names}, Signature=${signature}`;
    const first = parseAuthorizationV4(usual(`${KEY}/${SCOPE}`, "host;x-amz-date"));
    first.accessKeyId = "changed by a caller";
    first.signedHeaders = [];
    expect(parseAuthorizationV4(usual(`${KEY}/${SCOPE}`, "host;x-amz-date"))).toMatchObject({ accessKeyId: KEY, signedHeaders: ["host", "x-amz-date"] });
    const second = parseAuthorizationV4(usual(`${KEY}/${SCOPE}`, "host", "B".repeat(64)));
    expect(second).toMatchObject({ accessKeyId: KEY, scope: SCOPE, signedHeaders: ["host"], signature: "b".repeat(64) });
    const third = parseAuthorizationV4(usual(`OTHERKEY/20130525/eu-west-1/s3/aws4_request`, "host"));
    expect(third).toMatchObject({ accessKeyId: "OTHERKEY", date: "20130525", region: "eu-west-1", scope: "20130525/eu-west-1/s3/aws4_request" });
    expect(() => parseAuthorizationV4(usual(`OTHERKEY/20130525/eu-west-1/s3/aws4_request`, "host;;x-amz-date"))).toThrow(/SignedHeaders/);
    expect(() => parseAuthorizationV4(usual(`OTHERKEY/2013052/eu-west-1/s3/aws4_request`, "host"))).toThrow(/Credential/);
  });

  test.each([
    ["AWS4-HMAC-SHA256"],
    ["AWS4-HMAC-SHA256Credential=x"],
    [`AWS4-HMAC-SHA256 Credential=${KEY}/${SCOPE}, SignedHeaders=host`],
    [`AWS4-HMAC-SHA256 Credential=${KEY}/${SCOPE}, Signature=${sig}`],
    [`AWS4-HMAC-SHA256 SignedHeaders=host, Signature=${sig}`],
    [`AWS4-HMAC-SHA256 Credential=${KEY}/2013052/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${sig}`],
    [`AWS4-HMAC-SHA256 Credential=${KEY}/20130524/us-east-1/s3, SignedHeaders=host, Signature=${sig}`],
    [`AWS4-HMAC-SHA256 Credential=${KEY}/20130524/us-east-1/s3/aws5_request, SignedHeaders=host, Signature=${sig}`],
    [`AWS4-HMAC-SHA256 Credential=/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${sig}`],
    [`AWS4-HMAC-SHA256 Credential=${KEY}/${SCOPE}, SignedHeaders=host;;date, Signature=${sig}`],
    [`AWS4-HMAC-SHA256 Credential=${KEY}/${SCOPE}, SignedHeaders=, Signature=${sig}`],
    [`AWS4-HMAC-SHA256 Credential=${KEY}/${SCOPE}, SignedHeaders=host, Signature=`],
    [`AWS4-HMAC-SHA256 Credential=${KEY}/${SCOPE}, Credential=${KEY}/${SCOPE}, SignedHeaders=host, Signature=${sig}`],
    [`AWS4-HMAC-SHA256 Credential=${KEY}/${SCOPE}, SignedHeaders=host, Signature=${sig}, junk`],
  ])("malformed: %s → 400 AuthorizationHeaderMalformed", (value) => {
    const err = s3err(() => authenticate(basicGet({ authorization: value }), lookup, { now: DOC_NOW }));
    expect(err.code).toBe("AuthorizationHeaderMalformed");
    expect(err.status).toBe(400);
  });
});

describe("AWS documentation examples (single chunk, header auth)", () => {
  test("GET object with Range", () => {
    const input = request("GET", "/test.txt", {
      Host: "examplebucket.s3.amazonaws.com",
      Range: "bytes=0-9",
      "x-amz-content-sha256": EMPTY_SHA256,
      "x-amz-date": "20130524T000000Z",
      Authorization: authHeader("host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
    });
    const creq = canonicalRequest({ ...input, signedHeaders: ["host", "range", "x-amz-content-sha256", "x-amz-date"], payloadHash: EMPTY_SHA256 });
    expect(creq).toBe(
      "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n" +
        `x-amz-content-sha256:${EMPTY_SHA256}\nx-amz-date:20130524T000000Z\n\n` +
        `host;range;x-amz-content-sha256;x-amz-date\n${EMPTY_SHA256}`,
    );
    expect(sha256Hex(creq)).toBe("7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    expect(authenticate(input, lookup, { now: DOC_NOW })).toEqual({
      accessKeyId: KEY,
      scheme: "sigv4-header",
      payload: { mode: "sha256", sha256: EMPTY_SHA256 },
    });
  });

  test("PUT object (test$file.text, Date and x-amz-storage-class signed)", () => {
    const bodyHash = sha256Hex("Welcome to Amazon S3.");
    expect(bodyHash).toBe("44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    const input = request("PUT", "/test$file.text", {
      Host: "examplebucket.s3.amazonaws.com",
      Date: "Fri, 24 May 2013 00:00:00 GMT",
      "x-amz-date": "20130524T000000Z",
      "x-amz-storage-class": "REDUCED_REDUNDANCY",
      "x-amz-content-sha256": bodyHash,
      Authorization: authHeader(
        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
      ),
    });
    expect(authenticate(input, lookup, { now: DOC_NOW }).payload).toEqual({ mode: "sha256", sha256: bodyHash });
  });

  test("GET bucket lifecycle", () => {
    const input = request("GET", "/?lifecycle", {
      Host: "examplebucket.s3.amazonaws.com",
      "x-amz-date": "20130524T000000Z",
      "x-amz-content-sha256": EMPTY_SHA256,
      Authorization: authHeader("host;x-amz-content-sha256;x-amz-date", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
    });
    expect(authenticate(input, lookup, { now: DOC_NOW }).accessKeyId).toBe(KEY);
  });

  test("list objects (max-keys, prefix)", () => {
    const input = request("GET", "/?max-keys=2&prefix=J", {
      Host: "examplebucket.s3.amazonaws.com",
      "x-amz-date": "20130524T000000Z",
      "x-amz-content-sha256": EMPTY_SHA256,
      Authorization: authHeader("host;x-amz-content-sha256;x-amz-date", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
    });
    expect(authenticate(input, lookup, { now: DOC_NOW }).scheme).toBe("sigv4-header");
  });

  test("presigned GET", () => {
    const input = request(
      "GET",
      "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
      { Host: "examplebucket.s3.amazonaws.com" },
    );
    expect(authenticate(input, lookup, { now: new Date("2013-05-24T12:00:00Z") })).toEqual({
      accessKeyId: KEY,
      scheme: "sigv4-presigned",
      payload: { mode: "unsigned" },
    });
  });

  test("streaming PUT seed signature", () => {
    const input = request("PUT", "/examplebucket/chunkObject.txt", {
      Host: "s3.amazonaws.com",
      "x-amz-date": "20130524T000000Z",
      "x-amz-storage-class": "REDUCED_REDUNDANCY",
      "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      "Content-Encoding": "aws-chunked",
      "x-amz-decoded-content-length": "66560",
      "Content-Length": "66824",
      Authorization: authHeader(
        "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
        "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
      ),
    });
    const result = authenticate(input, lookup, { now: DOC_NOW });
    expect(result.payload.mode).toBe("streaming-signed");
    expect(result.payload.chunkSigning).toMatchObject({
      amzDate: "20130524T000000Z",
      scope: SCOPE,
      seedSignature: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
    });
    expect(result.payload.chunkSigning!.signingKey.equals(deriveSigningKey(SECRET, "20130524", "us-east-1", "s3"))).toBe(true);
  });

  test("streaming PUT with signed trailer: seed signature", () => {
    const input = request("PUT", "/examplebucket/chunkObject.txt", {
      Host: "s3.amazonaws.com",
      "x-amz-date": "20130524T000000Z",
      "x-amz-storage-class": "REDUCED_REDUNDANCY",
      "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
      "Content-Encoding": "aws-chunked",
      "x-amz-decoded-content-length": "66560",
      "x-amz-trailer": "x-amz-checksum-crc32c",
      Authorization: authHeader(
        "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
        "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
      ),
    });
    const result = authenticate(input, lookup, { now: DOC_NOW });
    expect(result.payload.mode).toBe("streaming-signed-trailer");
    expect(result.payload.chunkSigning?.seedSignature).toBe("106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e");
  });
});

describe("header auth: errors and checks", () => {
  const now = new Date("2013-05-24T00:00:00Z");

  test("a correctly signed request passes; region and service are not checked", () => {
    expect(authenticate(signed(basicGet(), BASIC_SIGNED), lookup, { now }).accessKeyId).toBe(KEY);
    expect(authenticate(signed(basicGet(), BASIC_SIGNED, { region: "mars-north-9" }), lookup, { now }).accessKeyId).toBe(KEY);
  });

  test("repeated headers are joined with ',' and whitespace is collapsed", () => {
    const input = basicGet({ "x-amz-meta-a": "x" });
    input.headers["x-amz-meta-a"] = ["  one   two ", "three\t\tfour"];
    const creq = canonicalRequest({ ...input, signedHeaders: ["x-amz-meta-a"], payloadHash: "UNSIGNED-PAYLOAD" });
    expect(creq.split("\n")[3]).toBe("x-amz-meta-a:one two,three four");
    expect(authenticate(signed(input, [...BASIC_SIGNED, "x-amz-meta-a"]), lookup, { now }).accessKeyId).toBe(KEY);
  });

  test("missing x-amz-content-sha256 → 400 InvalidRequest", () => {
    const input = basicGet();
    delete input.headers["x-amz-content-sha256"];
    const err = s3err(() => authenticate(signed(input, ["host", "x-amz-date"]), lookup, { now }));
    expect([err.code, err.status, err.message]).toEqual(["InvalidRequest", 400, "Missing required header for this request: x-amz-content-sha256"]);
  });

  test.each(["abc", "e3b0c442", "STREAMING-UNSIGNED-PAYLOAD", "unsigned-payload", "g".repeat(64)])(
    "x-amz-content-sha256 %s → 400 InvalidArgument",
    (value) => {
      const err = s3err(() => authenticate(signed(basicGet({ "x-amz-content-sha256": value }), BASIC_SIGNED), lookup, { now }));
      expect([err.code, err.status]).toEqual(["InvalidArgument", 400]);
      expect(err.options.extras).toEqual({ ArgumentName: "x-amz-content-sha256", ArgumentValue: value });
    },
  );

  test.each(["STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"])("%s → 501 NotImplemented", (value) => {
    const err = s3err(() => authenticate(signed(basicGet({ "x-amz-content-sha256": value }), BASIC_SIGNED), lookup, { now }));
    expect([err.code, err.status]).toEqual(["NotImplemented", 501]);
  });

  test.each([
    ["UNSIGNED-PAYLOAD", "unsigned"],
    ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "streaming-signed"],
    ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "streaming-signed-trailer"],
    ["STREAMING-UNSIGNED-PAYLOAD-TRAILER", "streaming-unsigned-trailer"],
  ])("x-amz-content-sha256 %s → mode %s", (value, mode) => {
    const result = authenticate(signed(basicGet({ "x-amz-content-sha256": value }), BASIC_SIGNED), lookup, { now });
    expect(result.payload.mode).toBe(mode);
    expect(result.payload.chunkSigning !== undefined).toBe(mode.startsWith("streaming-signed"));
  });

  test("upper-case hex sha256 is accepted and normalised", () => {
    const upper = EMPTY_SHA256.toUpperCase();
    const result = authenticate(signed(basicGet({ "x-amz-content-sha256": upper }), BASIC_SIGNED), lookup, { now });
    expect(result.payload).toEqual({ mode: "sha256", sha256: EMPTY_SHA256 });
  });

  test("no date at all → 403 AccessDenied", () => {
    const input = basicGet();
    delete input.headers["x-amz-date"];
    const withAuth = { ...input, headers: { ...input.headers, authorization: [authHeader("host;x-amz-content-sha256", "0".repeat(64))] } };
    const err = s3err(() => authenticate(withAuth, lookup, { now }));
    expect([err.code, err.status, err.message]).toEqual(["AccessDenied", 403, "AWS authentication requires a valid Date or x-amz-date header"]);
  });

  test("Date header in ISO basic format is used when x-amz-date is absent", () => {
    const input = request("GET", "/k", { host: "h", date: "20130524T000000Z", "x-amz-content-sha256": EMPTY_SHA256 });
    const creq = canonicalRequest({ ...input, signedHeaders: ["date", "host"], payloadHash: EMPTY_SHA256 });
    const sig = hmacHex(deriveSigningKey(SECRET, "20130524", "us-east-1", "s3"), stringToSign("20130524T000000Z", SCOPE, creq));
    input.headers.authorization = [authHeader("date;host", sig)];
    expect(authenticate(input, lookup, { now }).accessKeyId).toBe(KEY);
  });

  test("RFC 1123 Date (no x-amz-date) → 400 MalformedDate; malformed x-amz-date too", () => {
    const input = request("GET", "/k", { host: "h", date: "Fri, 24 May 2013 00:00:00 GMT", "x-amz-content-sha256": EMPTY_SHA256 });
    input.headers.authorization = [authHeader("date;host", "0".repeat(64))];
    expect(s3err(() => authenticate(input, lookup, { now })).code).toBe("MalformedDate");
    for (const bad of ["20130524T000000", "20131324T000000Z", "20130230T000000Z", "2013-05-24T00:00:00Z"]) {
      const e = s3err(() => authenticate(signed(basicGet({ "x-amz-date": bad }), BASIC_SIGNED, { date: "20130524" }), lookup, { now }));
      expect([e.code, e.status]).toEqual(["MalformedDate", 400]);
    }
  });

  test("credential date ≠ x-amz-date day → 400 AuthorizationHeaderMalformed", () => {
    const err = s3err(() => authenticate(signed(basicGet(), BASIC_SIGNED, { date: "20130523" }), lookup, { now }));
    expect([err.code, err.status]).toEqual(["AuthorizationHeaderMalformed", 400]);
  });

  test("unknown access key → 403 InvalidAccessKeyId", () => {
    const input = signed(basicGet(), BASIC_SIGNED);
    const err = s3err(() => authenticate(input, () => undefined, { now }));
    expect([err.code, err.status]).toEqual(["InvalidAccessKeyId", 403]);
  });

  test("wrong secret → 403 SignatureDoesNotMatch with AWS's diagnostic extras, in order", () => {
    const input = signed(basicGet(), BASIC_SIGNED, { secret: "not-the-secret" });
    const err = s3err(() => authenticate(input, lookup, { now }));
    expect([err.code, err.status]).toEqual(["SignatureDoesNotMatch", 403]);
    const extras = err.options.extras!;
    expect(Object.keys(extras)).toEqual(["AWSAccessKeyId", "StringToSign", "SignatureProvided", "StringToSignBytes", "CanonicalRequest", "CanonicalRequestBytes"]);
    expect(extras.AWSAccessKeyId).toBe(KEY);
    expect(extras.CanonicalRequest).toBe(
      `GET\n/bucket/key\n\nhost:127.0.0.1:8000\nx-amz-content-sha256:${EMPTY_SHA256}\nx-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n${EMPTY_SHA256}`,
    );
    expect(extras.StringToSign).toBe(`AWS4-HMAC-SHA256\n20130524T000000Z\n${SCOPE}\n${sha256Hex(extras.CanonicalRequest!)}`);
    expect(extras.StringToSignBytes!.startsWith("41 57 53 34 2d 48 4d 41 43 2d 53 48 41 32 35 36 0a 32")).toBe(true);
    expect(extras.CanonicalRequestBytes).toBe(hexBytes(extras.CanonicalRequest!));
    expect(extras.SignatureProvided).toMatch(/^[0-9a-f]{64}$/);
  });

  test("tampering with any signed part fails; unsigned headers may change", () => {
    const good = signed(basicGet({ "x-amz-meta-a": "1" }), [...BASIC_SIGNED, "x-amz-meta-a"]);
    const variants: AuthInput[] = [
      { ...good, method: "PUT" },
      { ...good, rawPath: "/bucket/key2" },
      { ...good, rawQuery: "a=1" },
      { ...good, headers: { ...good.headers, host: ["127.0.0.1:8001"] } },
      { ...good, headers: { ...good.headers, "x-amz-meta-a": ["2"] } },
    ];
    for (const v of variants) expect(s3err(() => authenticate(v, lookup, { now })).code).toBe("SignatureDoesNotMatch");
    expect(authenticate({ ...good, headers: { ...good.headers, "user-agent": ["x"] } }, lookup, { now }).accessKeyId).toBe(KEY);
  });

  test("a signature with wrong length or non-hex content is a mismatch, not a crash", () => {
    const input = basicGet({ authorization: authHeader(BASIC_SIGNED.join(";"), "xyz") });
    expect(s3err(() => authenticate(input, lookup, { now })).code).toBe("SignatureDoesNotMatch");
  });

  test("signed header missing from the request signs as empty", () => {
    const input = signed(basicGet(), [...BASIC_SIGNED, "x-amz-meta-missing"]);
    expect(authenticate(input, lookup, { now }).accessKeyId).toBe(KEY);
  });

  test("clock skew: ±15 min passes, beyond → 403 RequestTimeTooSkewed, checked after the signature", () => {
    const input = signed(basicGet(), BASIC_SIGNED);
    const at = (min: number) => new Date(now.getTime() + min * 60_000);
    expect(authenticate(input, lookup, { now: at(14.9) }).accessKeyId).toBe(KEY);
    expect(authenticate(input, lookup, { now: at(-14.9) }).accessKeyId).toBe(KEY);
    for (const min of [15.1, -15.1, 600]) {
      const err = s3err(() => authenticate(input, lookup, { now: at(min) }));
      expect([err.code, err.status]).toEqual(["RequestTimeTooSkewed", 403]);
      expect(err.options.extras).toMatchObject({ RequestTime: "20130524T000000Z", MaxAllowedSkewMilliseconds: "900000" });
    }
    const bad = signed(basicGet(), BASIC_SIGNED, { secret: "x" });
    expect(s3err(() => authenticate(bad, lookup, { now: at(60) })).code).toBe("SignatureDoesNotMatch");
  });

  test("invalid percent-encoding in the path fails auth cleanly or signs literally", () => {
    const input = signed(request("GET", "/b/100%/%zz", { host: "h", "x-amz-date": "20130524T000000Z", "x-amz-content-sha256": EMPTY_SHA256 }), BASIC_SIGNED);
    expect(authenticate(input, lookup, { now }).accessKeyId).toBe(KEY);
    const wrong = { ...input, rawPath: "/b/100%25/%zz" }; // same canonical form: still the same request for signing
    expect(authenticate(wrong, lookup, { now }).accessKeyId).toBe(KEY);
  });

  test("__proto__ and friends as header names are harmless", () => {
    const input = signed(basicGet(), [...BASIC_SIGNED, "constructor"]);
    expect(authenticate(input, lookup, { now }).accessKeyId).toBe(KEY);
  });
});

describe("presigned: errors and checks", () => {
  const amzDate = "20130524T000000Z";
  function presign(
    params: Record<string, string | undefined> = {},
    opts: { headers?: Record<string, string>; signedHeaders?: string[]; secret?: string; path?: string } = {},
  ): AuthInput {
    const base: Record<string, string | undefined> = {
      "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
      "X-Amz-Credential": `${KEY}/${SCOPE}`,
      "X-Amz-Date": amzDate,
      "X-Amz-Expires": "3600",
      "X-Amz-SignedHeaders": (opts.signedHeaders ?? ["host"]).join(";"),
      ...params,
    };
    const query = Object.entries(base)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${encodeURIComponent(v!)}`)
      .join("&");
    const input = request("GET", `${opts.path ?? "/bucket/key"}?${query}`, { host: "127.0.0.1:8000", ...opts.headers });
    const creq = canonicalRequest({
      ...input,
      signedHeaders: opts.signedHeaders ?? ["host"],
      payloadHash: input.headers["x-amz-content-sha256"]?.[0] ?? "UNSIGNED-PAYLOAD",
      presigned: true,
    });
    const sig = hmacHex(deriveSigningKey(opts.secret ?? SECRET, "20130524", "us-east-1", "s3"), stringToSign(amzDate, SCOPE, creq));
    return { ...input, rawQuery: input.rawQuery + (params["X-Amz-Signature"] === undefined && !("X-Amz-Signature" in params) ? `&X-Amz-Signature=${sig}` : "") };
  }
  const now = new Date("2013-05-24T00:10:00Z");

  test("a valid presigned URL passes (and the signature may sit anywhere in the query)", () => {
    const input = presign();
    expect(authenticate(input, lookup, { now }).scheme).toBe("sigv4-presigned");
    const moved = input.rawQuery.split("&");
    moved.unshift(moved.pop()!);
    expect(authenticate({ ...input, rawQuery: moved.join("&") }, lookup, { now }).accessKeyId).toBe(KEY);
  });

  test("algorithm other than AWS4-HMAC-SHA256 → 400 AuthorizationQueryParametersError", () => {
    const err = s3err(() => authenticate(presign({ "X-Amz-Algorithm": "AWS4-HMAC-SHA1" }), lookup, { now }));
    expect([err.code, err.status]).toEqual(["AuthorizationQueryParametersError", 400]);
    expect(s3err(() => authenticate(presign({ "X-Amz-Algorithm": "AWS4-ECDSA-P256-SHA256" }), lookup, { now })).code).toBe("NotImplemented");
  });

  test.each(["X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"])(
    "missing %s → 400 AuthorizationQueryParametersError naming it",
    (param) => {
      const input = presign({ [param]: undefined });
      const err = s3err(() => authenticate(input, lookup, { now }));
      expect([err.code, err.status]).toEqual(["AuthorizationQueryParametersError", 400]);
      expect(err.message).toContain(`Missing: ${param}`);
    },
  );

  test("bad credential → 400 AuthorizationQueryParametersError", () => {
    for (const cred of [`${KEY}/20130524/us-east-1/s3`, "nonsense", `${KEY}/20130523/us-east-1/s3/aws4_request`]) {
      const err = s3err(() => authenticate(presign({ "X-Amz-Credential": cred }), lookup, { now }));
      expect([err.code, err.status]).toEqual(["AuthorizationQueryParametersError", 400]);
    }
    expect(s3err(() => authenticate(presign({ "X-Amz-Date": "2013-05-24" }), lookup, { now })).code).toBe("AuthorizationQueryParametersError");
  });

  test.each([
    ["abc", "X-Amz-Expires should be a number"],
    ["1.5", "X-Amz-Expires should be a number"],
    ["", "X-Amz-Expires should be a number"],
    ["-1", "X-Amz-Expires must be non-negative"],
    ["604801", "X-Amz-Expires must be less than a week (in seconds) that is 604800"],
  ])("X-Amz-Expires=%s → 400 %s", (value, message) => {
    const err = s3err(() => authenticate(presign({ "X-Amz-Expires": value }), lookup, { now }));
    expect([err.code, err.status, err.message]).toEqual(["AuthorizationQueryParametersError", 400, message]);
  });

  test("X-Amz-Expires=0 is valid but expired once its second has passed (lakeFS: ErrExpiredPresignRequest)", () => {
    const input = presign({ "X-Amz-Expires": "0" });
    const expired = s3err(() => authenticate(input, lookup, { now: new Date("2013-05-24T00:00:01Z") }));
    expect([expired.code, expired.status, expired.message]).toEqual(["AccessDenied", 403, "Request has expired"]);
  });

  test("X-Amz-Expires=604800 is accepted", () => {
    expect(authenticate(presign({ "X-Amz-Expires": "604800" }), lookup, { now: new Date("2013-05-30T00:00:00Z") }).accessKeyId).toBe(KEY);
  });

  test("expiry counts from X-Amz-Date; 'not valid yet' beyond 15 min in the future", () => {
    const input = presign({ "X-Amz-Expires": "60" });
    expect(authenticate(input, lookup, { now: new Date("2013-05-24T00:01:00Z") }).accessKeyId).toBe(KEY);
    const expired = s3err(() => authenticate(input, lookup, { now: new Date("2013-05-24T00:01:01Z") }));
    expect([expired.code, expired.status, expired.message]).toEqual(["AccessDenied", 403, "Request has expired"]);
    expect(authenticate(input, lookup, { now: new Date("2013-05-23T23:50:00Z") }).accessKeyId).toBe(KEY);
    const early = s3err(() => authenticate(input, lookup, { now: new Date("2013-05-23T23:40:00Z") }));
    expect([early.code, early.status, early.message]).toEqual(["AccessDenied", 403, "Request is not valid yet"]);
  });

  test("x-amz-* request headers must be signed", () => {
    const input = presign({}, { headers: { "x-amz-meta-a": "1", "X-Amz-Acl": "private" } });
    const err = s3err(() => authenticate(input, lookup, { now }));
    expect([err.code, err.status, err.message]).toEqual(["AccessDenied", 403, "There were headers present in the request which were not signed"]);
    expect(err.options.extras).toEqual({ HeadersNotSigned: "x-amz-acl, x-amz-meta-a" });
    const ok = presign({}, { headers: { "x-amz-meta-a": "1" }, signedHeaders: ["host", "x-amz-meta-a"] });
    expect(authenticate(ok, lookup, { now }).accessKeyId).toBe(KEY);
  });

  test("payload hash comes from x-amz-content-sha256 when sent (signed)", () => {
    const hash = sha256Hex("body");
    const input = presign({}, { headers: { "x-amz-content-sha256": hash }, signedHeaders: ["host", "x-amz-content-sha256"] });
    expect(authenticate(input, lookup, { now }).payload).toEqual({ mode: "sha256", sha256: hash });
  });

  test("unknown key → InvalidAccessKeyId; wrong secret → SignatureDoesNotMatch with extras", () => {
    expect(s3err(() => authenticate(presign(), () => undefined, { now })).code).toBe("InvalidAccessKeyId");
    const err = s3err(() => authenticate(presign({}, { secret: "nope" }), lookup, { now }));
    expect(err.code).toBe("SignatureDoesNotMatch");
    expect(err.options.extras!.CanonicalRequest).not.toContain("X-Amz-Signature");
    expect(err.options.extras!.CanonicalRequest).toContain("UNSIGNED-PAYLOAD");
  });
});

describe("dates", () => {
  test("parseAmzDate", () => {
    expect(parseAmzDate("20130524T000000Z")).toBe(Date.UTC(2013, 4, 24));
    expect(parseAmzDate("20240229T235959Z")).toBe(Date.UTC(2024, 1, 29, 23, 59, 59));
    expect(parseAmzDate("20230229T000000Z")).toBeUndefined();
    expect(parseAmzDate("20130524T240000Z")).toBeUndefined();
    expect(parseAmzDate(" 20130524T000000Z")).toBeUndefined();
  });
});
