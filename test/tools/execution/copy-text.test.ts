import { describe, expect, it } from 'vitest';
import type { IrValue } from '../../../core/batch.js';
import { copyField, copyLine, CopyTextWriter, hasNulByte, stagedText } from '../../../tools/execution/copy-text.js';

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

describe('COPY text written as bytes (CopyTextWriter)', () => {
  /** A value of every kind the IR holds, with the awkward cases of each. */
  function randomValue(rnd: () => number): IrValue {
    const pick = Math.floor(rnd() * 14);
    const chars = ['a', 'Z', '0', ' ', '\t', '\n', '\r', '\\', '\u0000', 'é', '€', '漢', '\u{1F600}', '\uD800', '\uDFFF', '\u007f', 'N'];
    const text = (): string => Array.from({ length: Math.floor(rnd() * 12) }, () => chars[Math.floor(rnd() * chars.length)]!).join('');
    switch (pick) {
      case 0:
        return null;
      case 1:
      case 2:
        return text();
      case 3:
        return 'plain ascii text';
      case 4:
        return Math.floor(rnd() * 2 ** 32) - 2 ** 31;
      case 5:
        return [0, -0, 9, 10, -1, 2147483647, -2147483647, -2147483648, 2147483648, 2 ** 53, -(2 ** 53), 1e21][Math.floor(rnd() * 12)]!;
      case 6:
        return [1.5, -0.25, 1e-7, 123456.789, NaN, Infinity, -Infinity][Math.floor(rnd() * 7)]!;
      case 7:
        return rnd() < 0.5;
      case 8:
        return BigInt(Math.floor(rnd() * 1e15)) * 1000000007n - 5n;
      case 9:
        return Buffer.from(Array.from({ length: Math.floor(rnd() * 6) }, () => Math.floor(rnd() * 256)));
      case 10:
        return '';
      case 11:
        return '2024-02-29';
      default:
        return `${text()}${'x'.repeat(Math.floor(rnd() * 300))}`;
    }
  }

  it('writes for every row the bytes of its copyLine and a newline, and tells which values hold U+0000', () => {
    let seed = 42;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    // A tiny first buffer: growing it is part of what is checked.
    const w = new CopyTextWriter(8);
    const rows: IrValue[][] = [];
    for (let r = 0; r < 3000; r++) {
      const row = Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => randomValue(rnd));
      rows.push(row);
      const nul = row.map((v) => w.field(v));
      w.endRow();
      expect(nul).toEqual(row.map((v) => hasNulByte(v)));
    }
    const expected = Buffer.from(rows.map((row) => `${copyLine(row)}\n`).join(''), 'utf8');
    expect(w.bytes().equals(expected)).toBe(true);
    expect(w.rows).toBe(rows.length);
    for (const r of [0, 1, 1234, 2999]) {
      expect(w.line(r)).toBe(Buffer.from(copyLine(rows[r]!), 'utf8').toString('utf8'));
      expect(w.row(r).equals(Buffer.from(`${copyLine(rows[r]!)}\n`, 'utf8'))).toBe(true);
    }
  });

  it('copies rows of another writer after a prefix, and writes nothing for an empty batch', () => {
    const a = new CopyTextWriter();
    a.field('x\ty');
    a.field(7);
    a.endRow();
    a.field(null);
    a.endRow();
    const b = new CopyTextWriter(1);
    b.ascii('1\t');
    b.copyRow(a, 1);
    b.ascii('0\t');
    b.copyRow(a, 0);
    expect(b.bytes().toString()).toBe('1\t\\N\n0\tx\\ty\t7\n');
    expect(new CopyTextWriter().bytes().length).toBe(0);
  });
});
