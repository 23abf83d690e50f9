// Trace and span ids: random, as W3C trace context asks (a ratio sampler reads the trace id's
// bits). Cryptographic random bytes are drawn 8 KB at a time and turned into hex once, so an id
// costs a slice of that text rather than a call into the random source or the hex encoder.
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 8192;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let hex = '';
let offset = 0;
const ZEROS: Record<number, string> = { 16: '0'.repeat(16), 32: '0'.repeat(32) };

function randomHex(digits: number): string {
  if (offset + digits > hex.length) {
    randomFillSync(pool);
    hex = pool.toString('hex');
    offset = 0;
  }
  const id = hex.slice(offset, offset + digits);
  offset += digits;
  // All zeros is W3C's invalid id: one draw in 2^64, but never sent.
  return id === ZEROS[digits] ? randomHex(digits) : id;
}

/** 32 lower-case hex digits. */
export const newTraceId = (): string => randomHex(32);
/** 16 lower-case hex digits. */
export const newSpanId = (): string => randomHex(16);
