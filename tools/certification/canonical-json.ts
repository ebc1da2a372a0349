// Canonical JSON: one exact text per value, so that signatures and hashes over it are reproducible anywhere.
import { createHash } from 'node:crypto';
import { CertificateError } from '../../core/errors.js';

/**
 * The canonical text of a JSON value: object keys sorted by Unicode code point, no whitespace, arrays in order,
 * strings escaped as `JSON.stringify` escapes them, finite numbers as `JSON.stringify` prints them.
 * Only plain objects, arrays, strings, finite numbers, booleans and null are accepted; anything else (undefined,
 * functions, symbols, bigints, NaN/Infinity, Dates, Buffers, class instances) throws a CertificateError naming
 * the path of the offending value.
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

/** SHA-256 of `data` (strings as UTF-8), lowercase hex. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function write(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw reject(path, `${String(value)} is not a finite number`);
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw reject(path, `a ${typeof value} has no JSON form`);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v, i) => write(v, `${path}[${i}]`)).join(',')}]`;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    throw reject(path, `a ${name} is not a plain JSON object`);
  }
  const keys = Object.keys(value).sort(compareCodePoints);
  const parts = keys.map((k) => `${JSON.stringify(k)}:${write((value as Record<string, unknown>)[k], `${path}.${k}`)}`);
  return `{${parts.join(',')}}`;
}

// Array.prototype.sort compares UTF-16 code units, which orders astral characters before U+E000–U+FFFF.
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done || cb.done) return ca.done ? (cb.done ? 0 : -1) : 1;
    const d = (ca.value.codePointAt(0) ?? 0) - (cb.value.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
}

function reject(path: string, what: string): CertificateError {
  return new CertificateError(`cannot write canonical JSON: ${path}: ${what}`, {
    hint: 'certificate content must be plain JSON data: convert dates to ISO strings, bigints to strings, drop undefined fields',
  });
}
