import { describe, expect, it } from 'vitest';
import { copyField, copyLine, hasNulByte, stagedText } from '../../../tools/execution/copy-text.js';

describe('COPY text encoding', () => {
  it('escapes the characters COPY treats specially and marks NULL', () => {
    expect(copyLine(['a\tb', 'line1\nline2\r', 'back\\slash', null, ''])).toBe('a\\tb\tline1\\nline2\\r\tback\\\\slash\t\\N\t');
  });
  it('encodes bytes as escaped hex, booleans as t/f, special floats and bigints exactly', () => {
    expect(copyField(Buffer.from([0, 255, 16]))).toBe('\\\\x00ff10');
    expect(stagedText(Buffer.from([0, 255, 16]))).toBe('\\x00ff10');
    expect([true, false].map(copyField)).toEqual(['t', 'f']);
    expect([NaN, Infinity, -Infinity, 1.5].map(copyField)).toEqual(['NaN', 'Infinity', '-Infinity', '1.5']);
    expect(copyField(18446744073709551615n)).toBe('18446744073709551615');
  });
  it('detects NUL bytes, which PostgreSQL text cannot hold', () => {
    expect(hasNulByte('a\u0000b')).toBe(true);
    expect(hasNulByte('ab')).toBe(false);
    expect(hasNulByte(Buffer.from([0]))).toBe(false);
  });
});
