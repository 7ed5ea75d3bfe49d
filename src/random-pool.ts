import { randomFillSync } from 'node:crypto';

/**
 * Cryptographically random bytes for tags, branches and nonce salts, cut
 * from a pool filled a few kilobytes at a time: randomBytes asks the kernel
 * once per call, which was 3 % of the REGISTER path's CPU (three calls per
 * registration). Each caller gets bytes no other caller got.
 */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/** `size` fresh random bytes (a copy the caller owns). */
export function randomBytesPooled(size: number): Buffer {
  if (size > POOL_BYTES) return randomFillSync(Buffer.allocUnsafe(size));
  if (offset + size > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + size));
  offset += size;
  return bytes;
}

/** `size` random bytes as hex (2 × size characters). */
export function randomHex(size: number): string {
  if (offset + size > POOL_BYTES || size > POOL_BYTES) return randomBytesPooled(size).toString('hex');
  const hex = pool.toString('hex', offset, offset + size);
  offset += size;
  return hex;
}
