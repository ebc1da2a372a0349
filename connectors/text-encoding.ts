// Byte-level checks of text encodings, for sources whose drivers would otherwise replace bad bytes silently.
import { isUtf8 } from 'node:buffer';
import type { BatchReject } from '../core/batch.js';

/** Offset of the first byte that breaks UTF-8 in `b`, or -1 when all of it is valid UTF-8. */
export function invalidUtf8Offset(b: Uint8Array): number {
  if (isUtf8(b)) return -1;
  let i = 0;
  while (i < b.length) {
    const x = b[i]!;
    const need = x < 0x80 ? 0 : x >= 0xc2 && x <= 0xdf ? 1 : x >= 0xe0 && x <= 0xef ? 2 : x >= 0xf0 && x <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      const y = b[i + k];
      if (y === undefined || (y & 0xc0) !== 0x80) return i;
    }
    // Overlongs, surrogates and code points above U+10FFFF.
    const y = b[i + 1] ?? 0;
    if ((x === 0xe0 && y < 0xa0) || (x === 0xed && y > 0x9f) || (x === 0xf0 && y < 0x90) || (x === 0xf4 && y > 0x8f)) return i;
    i += need + 1;
  }
  return -1;
}

/**
 * Windows-1252 bytes 0x80–0x9F as the characters MySQL's latin1 (and the WHATWG decoder) gives them; the five bytes
 * cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) map to the C1 control of the same number, so every byte has
 * exactly one character and back.
 */
const CP1252_HIGH = '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';
const CP1252_BYTE = new Map<string, number>([...CP1252_HIGH].map((ch, i) => [ch, 0x80 + i]));

/**
 * Characters that stand for a UTF-8 continuation byte (0x80–0xBF) when UTF-8 was read as cp1252, or as ISO-8859-1
 * (C1 controls U+0080–U+009F: what PostgreSQL's LATIN1 and Node's decoder make of those bytes).
 */
const CONTINUATION_CHARS = `${CP1252_HIGH}\u0080-\u00bf`;

/**
 * A UTF-8 lead byte (0xC2–0xF4, as the characters Â…ô) followed by a continuation byte, both read as cp1252: the mark
 * of UTF-8 stored through a latin1 connection (`Ã©` for `é`). Written once for JavaScript and for MariaDB's PCRE.
 */
export const DOUBLE_ENCODED_MARK = new RegExp(`[\\u00c2-\\u00f4][${CONTINUATION_CHARS}]`);

/** The same pattern in PCRE syntax (`\x{…}` escapes), for a `REGEXP` on the server. Contains no quote. */
export const DOUBLE_ENCODED_MARK_PCRE = `[\\x{00c2}-\\x{00f4}][${[...CP1252_HIGH].map((ch) => `\\x{${ch.codePointAt(0)!.toString(16).padStart(4, '0')}}`).join('')}\\x{0080}-\\x{00bf}]`;

/**
 * What a text value is with respect to double encoding:
 * - `clean`: it has no double-encoded mark (also a correct `é`, `日本`, plain ASCII): leave it alone;
 * - `double`: every character is a cp1252 (or ISO-8859-1) byte and those bytes are valid UTF-8 — `text` is the value
 *   as meant;
 * - `broken`: it has the mark but does not round-trip (a character outside cp1252, or bytes that are not UTF-8);
 *   `offset` is the character offset of the first mark.
 */
export type DoubleEncoding = { kind: 'clean' } | { kind: 'double'; text: string } | { kind: 'broken'; offset: number };

export function classifyDoubleEncoding(value: string): DoubleEncoding {
  const mark = DOUBLE_ENCODED_MARK.exec(value);
  if (mark === null) return { kind: 'clean' };
  const bytes = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    const b = code <= 0xff ? code : CP1252_BYTE.get(value[i]!);
    if (b === undefined) return { kind: 'broken', offset: mark.index };
    bytes[i] = b;
  }
  if (invalidUtf8Offset(bytes) >= 0) return { kind: 'broken', offset: mark.index };
  return { kind: 'double', text: Buffer.from(bytes).toString('utf8') };
}

/**
 * Encodings a source can declare for text the database does not check (PostgreSQL `SQL_ASCII`): `utf8` (default),
 * `latin1` (ISO-8859-1, every byte is a character) and `cp1252` (Windows-1252; 0x81, 0x8D, 0x8F, 0x90, 0x9D are
 * undefined and therefore invalid).
 */
export type DeclaredEncoding = 'utf8' | 'latin1' | 'cp1252';

/** A declared encoding from its usual names (`UTF8`, `utf-8`, `LATIN1`, `ISO-8859-1`, `WIN1252`, `windows-1252`…), or null. */
export function declaredEncoding(name: string): DeclaredEncoding | null {
  const n = name.trim().toLowerCase().replace(/[-_ ]/g, '');
  if (n === 'utf8') return 'utf8';
  if (n === 'latin1' || n === 'iso88591') return 'latin1';
  if (n === 'win1252' || n === 'windows1252' || n === 'cp1252') return 'cp1252';
  return null;
}

const CP1252_UNDEFINED = new Set([0x81, 0x8d, 0x8f, 0x90, 0x9d]);

/** Bytes as text of a declared encoding: the text, or the offset of the first byte the encoding does not define. */
export function decodeDeclared(bytes: Buffer, encoding: DeclaredEncoding): { text: string } | { offset: number } {
  if (encoding === 'utf8') {
    const offset = invalidUtf8Offset(bytes);
    return offset < 0 ? { text: bytes.toString('utf8') } : { offset };
  }
  if (encoding === 'latin1') return { text: bytes.toString('latin1') };
  let text = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (CP1252_UNDEFINED.has(b)) return { offset: i };
    text += b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80]! : String.fromCharCode(b);
  }
  return { text };
}

/** Text back into the bytes of a declared encoding (the inverse of `decodeDeclared` for the text it produced). */
export function encodeDeclared(text: string, encoding: DeclaredEncoding): Buffer {
  if (encoding === 'utf8') return Buffer.from(text, 'utf8');
  if (encoding === 'latin1') return Buffer.from(text, 'latin1');
  return Buffer.from([...text].map((ch) => CP1252_BYTE.get(ch) ?? ch.charCodeAt(0)));
}

/** The batch reject of a text value whose bytes are not valid in `encoding`; names the byte offset, never the value. */
export function invalidEncodingReject(at: { table: string; column: string; row: number }, offset: number, encoding: string = 'utf8'): BatchReject {
  const name = encoding === 'utf8' ? 'UTF-8' : encoding;
  return {
    row: at.row,
    column: at.column,
    rule: 'invalid_encoding',
    reason: `${at.table}.${at.column} is not valid ${name} (first invalid byte at offset ${offset}); Sensei never replaces bytes silently: fix the value at the source or map the column to bytea`,
  };
}
