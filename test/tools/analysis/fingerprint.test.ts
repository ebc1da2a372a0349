// Fingerprints: documented layout, unit length, similarity across tables, and no recoverable values.
import { describe, expect, it } from 'vitest';
import { FINGERPRINT_DIMENSIONS } from '../../../core/profile.js';
import { computeColumnStats, FEATURE_CAP, FINGERPRINT_LAYOUT, fingerprintSimilarity, fnv1a } from '../../../tools/analysis/fingerprint.js';
import { shapeOf } from '../../../tools/analysis/value-shapes.js';

const fp = (values: Array<string | number | null>) => computeColumnStats(values).fingerprint;
const repeat = <T>(v: T, n: number) => Array.from({ length: n }, () => v);

describe('fingerprint layout', () => {
  it('names contiguous ranges that cover exactly the 128 dimensions', () => {
    const ranges = Object.values(FINGERPRINT_LAYOUT).sort((a, b) => a[0] - b[0]);
    let next = 0;
    for (const [start, end] of ranges) {
      expect(start).toBe(next);
      expect(end).toBeGreaterThan(start);
      next = end;
    }
    expect(next).toBe(FINGERPRINT_DIMENSIONS);
  });

  it('is unit length and non-negative; the null ratio sits in the cardinality range', () => {
    const s = computeColumnStats(['a', null, 'b', null]);
    expect(s.fingerprint).toHaveLength(128);
    expect(Math.hypot(...s.fingerprint)).toBeCloseTo(1, 9);
    expect(s.fingerprint.every((x) => x >= 0)).toBe(true);
    expect(s).toMatchObject({ rows: 4, nulls: 2, nonNull: 2 });
    const withoutNulls = computeColumnStats(['a', 'b']).fingerprint;
    expect(s.fingerprint[0]).toBeGreaterThan(0);
    expect(withoutNulls[0]).toBe(0);
  });

  it('puts the shape signature of a value in the bin fnv1a(shapeOf(value)) mod 32 of the shapes range', () => {
    for (const v of ['AB-1234', 'hello world', 'Ünïcode 99', 'a very long text that goes on past the cut']) {
      const f = fp(repeat(v, 3));
      const [start, end] = FINGERPRINT_LAYOUT.shapes;
      const bins = f.slice(start, end).map((x, i) => (x > 0 ? i : -1)).filter((i) => i >= 0);
      expect(bins).toEqual([fnv1a(shapeOf(v)) % 32]);
    }
  });

  it('is all zeros for a column without rows (and says so instead of dividing by zero)', () => {
    expect(fp([]).every((x) => x === 0)).toBe(true);
  });
});

describe('cosine similarity between columns of different tables and sizes', () => {
  const emailsA = Array.from({ length: 500 }, (_, i) => `person${i}@example.com`);
  const emailsB = Array.from({ length: 40 }, (_, i) => `c.${i}x@corp.org`);
  const datesA = Array.from({ length: 300 }, (_, i) => `19${60 + (i % 39)}-0${1 + (i % 9)}-2${i % 8}`);
  const amounts = Array.from({ length: 200 }, (_, i) => (i * 7.31) % 900);

  it('ranks same-kind columns far above different kinds', () => {
    const same = fingerprintSimilarity(fp(emailsA), fp(emailsB));
    expect(same).toBeGreaterThan(0.7);
    expect(fingerprintSimilarity(fp(emailsA), fp(datesA))).toBeLessThan(same - 0.3);
    expect(fingerprintSimilarity(fp(amounts), fp(emailsA))).toBeLessThan(same - 0.3);
  });
});

describe('no value can be recovered from a fingerprint', () => {
  it('one distinct value: different values give the identical fingerprint, so a dictionary attack cannot choose', () => {
    const secret = fp(repeat('alice@example.com', 100));
    const candidates = ['alice@example.com', 'bruno@example.net', 'carol@example.org', 'zzzzz@qqqqqqq.xyz'];
    const scores = candidates.map((c) => fingerprintSimilarity(secret, fp(repeat(c, 100))));
    // The attacker's best guess is a four-way tie: the true value is indistinguishable from the others.
    expect(scores.every((s) => Math.abs(s - 1) < 1e-12)).toBe(true);
    // The same for a number: 42 and 57 cannot be told apart.
    expect(fp(repeat(42, 50))).toEqual(fp(repeat(57, 50)));
    // And no dimension holds the value or its length-independent encodings.
    expect(secret.some((x) => x === 42)).toBe(false);
  });

  it('three values: other triples with the same shape yield the same vector', () => {
    const colours = fp(['red', 'blue', 'green', 'red', 'blue', 'green']);
    expect(fp(['tan', 'gray', 'olive', 'tan', 'gray', 'olive'])).toEqual(colours);
    expect(fp([101, 202, 303, 101, 202, 303])).toEqual(fp([104, 205, 306, 104, 205, 306]));
    expect(fp(['2001-02-03', '1999-12-31', '1985-06-07'])).toEqual(fp(['2002-03-04', '1998-11-30', '1986-07-08']));
  });
});

describe('bounded cost: beyond FEATURE_CAP distinct values a uniform pick stands for the rest', () => {
  // Ten kinds of value in a fixed rotation: a pick of every k-th value would see only some of them.
  const rotation = (i: number): string | number => {
    switch (i % 10) {
      case 0: return `user${i}@example.com`;
      case 1: return `19${String(10 + (i % 89)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10}`;
      case 2: return i * 3;
      case 3: return `${(i % 997) + 0.25}`;
      case 4: return `Note number ${i} about the delivery`;
      case 5: return `AB-${i}`;
      case 6: return `+44 20 ${String(i).padStart(8, '0').slice(0, 4)} ${String(i).padStart(8, '0').slice(4)}`;
      case 7: return `https://example.org/p/${i}`;
      case 8: return `Name${i}`;
      default: return `2021-03-0${1 + (i % 9)} 12:${10 + (i % 49)}:00`;
    }
  };
  const column = (n: number) => Array.from({ length: n }, (_, i) => rotation(i));
  const kinds = (f: number[]) => f.slice(...FINGERPRINT_LAYOUT.kinds);

  it('gives nearly the fingerprint of examining every value, kind by kind (shares measured, not the first values)', () => {
    const values = column(FEATURE_CAP * 12);
    const picked = computeColumnStats(values);
    const exact = computeColumnStats(values, { featureCap: Infinity });
    expect(picked.distinct.size).toBeGreaterThan(FEATURE_CAP * 5);
    expect(picked.fingerprint).not.toEqual(exact.fingerprint);
    expect(fingerprintSimilarity(picked.fingerprint, exact.fingerprint)).toBeGreaterThan(0.999);
    // Each kind keeps its weight within 0.02 (a tenth of the values weighs about 0.05 here): none is lost or over-weighted.
    kinds(picked.fingerprint).forEach((x, i) => expect(Math.abs(x - kinds(exact.fingerprint)[i]!)).toBeLessThan(0.02));
    // A pick of every 10th distinct value (or the first ones) would instead see one kind only: the check above can fail.
    const everyTenth = computeColumnStats(values.filter((_, i) => i % 10 === 0), { featureCap: Infinity });
    expect(fingerprintSimilarity(everyTenth.fingerprint, exact.fingerprint)).toBeLessThan(0.9);
  });

  it('is reproducible: the same sample gives the same vector', () => {
    const values = column(FEATURE_CAP * 5);
    expect(computeColumnStats(values).fingerprint).toEqual(computeColumnStats([...values]).fingerprint);
  });

  it('still counts every value for cardinality and nulls', () => {
    const values = [...column(FEATURE_CAP * 3), ...repeat(null, 1000)];
    const s = computeColumnStats(values);
    expect(s).toMatchObject({ rows: FEATURE_CAP * 3 + 1000, nulls: 1000, nonNull: FEATURE_CAP * 3 });
    expect(s.distinct.size).toBeGreaterThan(FEATURE_CAP * 2);
    const integers = values.filter((v) => typeof v === 'number').length;
    expect(s.kinds).toEqual({ text: FEATURE_CAP * 3 - integers, integer: integers });
  });
});
