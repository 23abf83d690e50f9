// Trace and span ids: random, as W3C trace context asks (a ratio sampler reads the trace id's
// bits), cut from a pool of cryptographic random bytes refilled a few kilobytes at a time, so an
// id costs a hex slice rather than a call into the random source.
import { randomFillSync } from 'node:crypto';

const pool = Buffer.allocUnsafe(8192);
let offset = pool.length;
const ZEROS: Record<number, string> = { 8: '0'.repeat(16), 16: '0'.repeat(32) };

function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  // All zeros is W3C's invalid id: one draw in 2^64, but never sent.
  return hex === ZEROS[bytes] ? randomHex(bytes) : hex;
}

/** 32 lower-case hex digits. */
export const newTraceId = (): string => randomHex(16);
/** 16 lower-case hex digits. */
export const newSpanId = (): string => randomHex(8);
