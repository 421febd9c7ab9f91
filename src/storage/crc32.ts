/**
 * zlib's CRC-32 (range packs' entries, S3's CRC32 checksums), with zlib loaded on the first
 * checksum: loading it is ~1 ms of a start-up that needs none.
 */
import type * as Zlib from "node:zlib";

let zlibCrc32: typeof Zlib.crc32 | undefined;

/** The CRC-32 of `data`, continued from `value` (the CRC of what came before it). */
export function crc32(data: string | NodeJS.ArrayBufferView, value = 0): number {
  zlibCrc32 ??= process.getBuiltinModule("node:zlib").crc32;
  return zlibCrc32(data, value);
}
