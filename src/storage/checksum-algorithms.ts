/**
 * The checksum algorithms an object record may store (S3's flexible checksums). Storage owns the
 * names because it stores them; protocol/checksums.ts computes and validates them and re-exports
 * these, so storage imports nothing above it.
 */
export const CHECKSUM_ALGORITHMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];
