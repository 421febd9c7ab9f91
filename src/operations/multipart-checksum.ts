/**
 * Multipart checksums: the algorithm and type an upload is created with (COMPOSITE: a checksum of
 * the part checksums, "-N"; FULL_OBJECT: the CRC of the whole object, combined from the parts'
 * CRCs without reading the bytes again), the object's checksum at Complete, and the check of the
 * whole-object checksum a Complete request may claim.
 */
import { combineCrcs, isCombinable } from "../protocol/checksum-combine.js";
import { CHECKSUM_ALGORITHMS, checksumHeaderName, compositeChecksum, toChecksumAlgorithm, unsupportedAlgorithm, type ChecksumAlgorithm } from "../protocol/checksums.js";
import { S3Error } from "../protocol/errors.js";
import { header } from "../protocol/headers.js";
import type { PartRecord, StoredChecksum, UploadRecord } from "../storage/metadata-store.js";
import type { ObjectContext } from "./types.js";

/**
 * The checksum algorithm and type an upload is created with. FULL_OBJECT (the checksum of the
 * whole object) is for the CRCs only; COMPOSITE (a checksum of the part checksums, "-N") is not
 * for CRC64NVME, which defaults to FULL_OBJECT; the others default to COMPOSITE.
 */
export function uploadChecksum(h: ObjectContext["req"]["headers"]): Pick<UploadRecord, "checksumAlgorithm" | "checksumType"> {
  const name = header(h, "x-amz-checksum-algorithm")?.toUpperCase();
  const typeName = header(h, "x-amz-checksum-type")?.toUpperCase();
  if (name === undefined) {
    if (typeName !== undefined) throw new S3Error("InvalidRequest", "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.");
    return {};
  }
  const algorithm = toChecksumAlgorithm(name);
  if (!algorithm) throw unsupportedAlgorithm();
  if (typeName !== undefined && typeName !== "COMPOSITE" && typeName !== "FULL_OBJECT") throw new S3Error("InvalidRequest", "Value for x-amz-checksum-type header is invalid.");
  const type = typeName ?? (algorithm === "CRC64NVME" ? "FULL_OBJECT" : "COMPOSITE");
  if ((type === "FULL_OBJECT" && !isCombinable(algorithm)) || (type === "COMPOSITE" && algorithm === "CRC64NVME")) {
    throw new S3Error("InvalidRequest", `The ${type} checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`);
  }
  return { checksumAlgorithm: algorithm, checksumType: type };
}

/** An upload's checksum type (records from before checksum types were stored are COMPOSITE). */
export const uploadChecksumType = (u: UploadRecord) => u.checksumType ?? "COMPOSITE";

/** The object's checksum from its parts' (each in the upload's algorithm), if every part has one. */
export function objectChecksum(upload: UploadRecord, parts: readonly PartRecord[]): StoredChecksum | undefined {
  const alg = upload.checksumAlgorithm;
  if (!alg || !parts.every((p) => p.checksum)) return undefined;
  const digests = parts.map((p) => Buffer.from(p.checksum!, "base64"));
  if (upload.checksumType === "FULL_OBJECT" && isCombinable(alg)) {
    const whole = combineCrcs(alg, digests.map((digest, i) => ({ digest, length: parts[i]!.blob.size })));
    return { algorithm: alg, value: whole.toString("base64"), type: "FULL_OBJECT" };
  }
  return { algorithm: alg, value: compositeChecksum(alg, digests), type: "COMPOSITE" };
}

/** What a Complete request says the object's checksum is: x-amz-checksum-<alg> and -type. */
export interface ClaimedChecksum {
  algorithm?: ChecksumAlgorithm;
  value?: string;
  type?: string;
}

export function claimedChecksum(h: ObjectContext["req"]["headers"]): ClaimedChecksum {
  const type = header(h, "x-amz-checksum-type")?.toUpperCase();
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = header(h, checksumHeaderName(algorithm));
    if (value !== undefined) return { algorithm, value: value.trim(), type };
  }
  return { type };
}

/** A claimed whole-object checksum must be the upload's type and match (a COMPOSITE one with or without "-N"). */
export function checkObjectChecksum(upload: UploadRecord, actual: StoredChecksum | undefined, claimed: ClaimedChecksum): void {
  const type = uploadChecksumType(upload);
  if (claimed.type !== undefined && upload.checksumAlgorithm && claimed.type !== type) {
    throw new S3Error("InvalidRequest", `The upload was created using the ${type} checksum mode. The complete request must use the same checksum mode.`);
  }
  if (claimed.value === undefined || !actual) return;
  if (claimed.algorithm !== actual.algorithm) {
    throw new S3Error("InvalidRequest", `The upload was created using the ${actual.algorithm.toLowerCase()} checksum algorithm; the complete request named another.`);
  }
  if (claimed.value !== actual.value && claimed.value !== actual.value.replace(/-\d+$/, "")) {
    throw new S3Error("BadDigest", `The ${actual.algorithm.toLowerCase()} you specified did not match the calculated checksum.`);
  }
}
