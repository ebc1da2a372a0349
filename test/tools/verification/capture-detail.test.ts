// The compact capture detail gives back exactly the rows it was given (keys, hashes, order) and the same bucket
// digests as the row hashes as text.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CaptureDetail } from '../../../tools/verification/capture-detail.js';
import { bucketDigest } from '../../../tools/verification/row-digest.js';

describe('compact capture detail', () => {
  it('returns every row as added, per bucket and in order, and the digests of the text hashes', () => {
    const detail = new CaptureDetail();
    const expected = new Map<number, Array<[string, string, string]>>();
    const keys = ['["1"]', '["é","😀"]', '["a\\"b","c\\\\d"]', '[]', `["${'x'.repeat(900)}"]`];
    // Bucket 3 gets 5,000 rows (well past the arrays' first sizes); others a few, first seen out of order.
    const order = [7, 3, 0, ...Array.from({ length: 5_000 }, () => 3), 7, 4095];
    order.forEach((b, i) => {
      const h = createHash('md5').update(`row ${i}`).digest('hex');
      const key = keys[i % keys.length]!;
      detail.add(b, h, key);
      if (!expected.has(b)) expected.set(b, []);
      expected.get(b)!.push([key, h.slice(0, 16), h]);
    });
    expect(detail.size).toBe(4);
    expect([...detail.entries()].map(([b]) => b)).toEqual([7, 3, 0, 4095]);
    for (const [b, rows] of expected) {
      expect(detail.get(b)).toEqual(rows.map(([k, h16]) => [k, h16]));
    }
    expect(detail.get(1)).toBeUndefined();
    expect(detail.digests()).toEqual(
      [...expected.entries()].sort((a, b) => a[0] - b[0]).map(([bucket, rows]) => ({ bucket, rows: rows.length, digest: bucketDigest(rows.map(([, , h]) => h)) })),
    );
    detail.clear();
    expect(detail.size).toBe(0);
  });

  it('refuses a row hash that is not a lower-case md5 hex digest', () => {
    const detail = new CaptureDetail();
    expect(() => detail.add(0, 'Z'.repeat(32), '["1"]')).toThrow(/not a lower-case md5 hex digest/);
  });
});
