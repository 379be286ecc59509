// CRC-32 (IEEE, as zlib and gzip compute it) for the recording's per-chunk checksums.
// zlib.crc32 exists only from Node 20.15 and 22.2; older Nodes get the table-driven version.

import * as zlib from 'node:zlib';

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Table-driven CRC-32; `previous` continues a checksum over several pieces. */
export function crc32Table(bytes: Uint8Array, previous = 0): number {
  let c = ~previous >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

export const crc32: (bytes: Uint8Array, previous?: number) => number = native
  ? (bytes, previous = 0) => native(bytes, previous) >>> 0
  : crc32Table;
