// The distinct-count sketch of the column statistics, computed in a real PostgreSQL database (and in embedded
// PGlite): exact for small sets, close for a large one, and mergeable (batch sketches merge to the whole table's).
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SKETCH_SIZE,
  columnStatsSql,
  distinctEstimate,
  mergeColumnStats,
  mergeSketches,
  readColumnStats,
  type ColumnStats,
  type DigestColumn,
} from '../../../tools/verification/row-digest.js';
import { createPgDatabase, pgExec, pgQuery, type TempDatabase } from '../../fixtures/databases.js';

const COLUMNS: DigestColumn[] = [
  { name: 'id', type: 'integer' },
  { name: 'small', type: 'integer' },
  { name: 'word', type: 'text' },
  { name: 'at', type: 'timestamp with time zone' },
];

// 60,000 rows: id has 60,000 distinct values, small 10 (and NULLs), word 50,000, at 200.
const SETUP = `
CREATE TABLE s (id integer PRIMARY KEY, small integer, word text, at timestamptz);
INSERT INTO s SELECT g, CASE WHEN g % 11 = 0 THEN NULL ELSE g % 10 END, 'w' || (g % 50000), timestamptz '2024-01-01' + (g % 200) * interval '1 day'
  FROM generate_series(1, 60000) g;
`;

describe('distinct-count sketch (real PostgreSQL)', () => {
  let db: TempDatabase;
  const stats = async (where = ''): Promise<ColumnStats[]> =>
    readColumnStats(COLUMNS, (await pgQuery(db.url, columnStatsSql(COLUMNS, 's AS t', where)))[0]!);
  const byName = (all: ColumnStats[], name: string): ColumnStats => all.find((s) => s.column === name)!;

  beforeAll(async () => {
    db = await createPgDatabase('sensei_sketch');
    await pgExec(db.url, SETUP);
  }, 60_000);
  afterAll(async () => db?.drop());

  it('is exact for sets smaller than the sketch, NULLs not counted, and holds hashes, never values', async () => {
    const all = await stats();
    expect(distinctEstimate(byName(all, 'small').sketch!)).toBe(10);
    expect(distinctEstimate(byName(all, 'at').sketch!)).toBe(200);
    expect(byName(all, 'small').sketch!.every((h) => /^-?\d+$/.test(h))).toBe(true);
    const few = await stats(' WHERE t.id <= 30');
    expect(distinctEstimate(byName(few, 'word').sketch!)).toBe(30);
    expect(JSON.stringify(few)).not.toContain('w1');
    const none = await stats(' WHERE t.id < 0');
    expect(none.map((s) => distinctEstimate(s.sketch!))).toEqual([0, 0, 0, 0]);
  });

  it('estimates a 50,000-distinct column within 5% (KMV with k = 1024: standard error about 3%)', async () => {
    const all = await stats();
    expect(byName(all, 'word').sketch).toHaveLength(SKETCH_SIZE);
    const word = distinctEstimate(byName(all, 'word').sketch!);
    const id = distinctEstimate(byName(all, 'id').sketch!);
    expect(Math.abs(word - 50_000) / 50_000).toBeLessThan(0.05);
    expect(Math.abs(id - 60_000) / 60_000).toBeLessThan(0.05);
  });

  it('merges batch sketches into exactly the whole table\u2019s sketch, in any batch order', async () => {
    const whole = await stats();
    const batches: ColumnStats[][] = [];
    for (let lo = 1; lo <= 60000; lo += 7000) batches.push(await stats(` WHERE t.id >= ${lo} AND t.id < ${lo + 7000}`));
    const merged = batches.reduce((a, b) => mergeColumnStats(a, b));
    const reversed = [...batches].reverse().reduce((a, b) => mergeColumnStats(a, b));
    expect(merged.map((s) => s.sketch)).toEqual(whole.map((s) => s.sketch));
    expect(reversed.map((s) => s.sketch)).toEqual(whole.map((s) => s.sketch));
    expect(merged.map((s) => distinctEstimate(s.sketch!))).toEqual(whole.map((s) => distinctEstimate(s.sketch!)));
  });

  it('merging keeps the smallest hashes, drops duplicates, and a changed sketch changes the estimate', () => {
    expect(mergeSketches(['-5', '3'], ['3', '-9223372036854775808', '10'])).toEqual(['-9223372036854775808', '-5', '3', '10']);
    const big = Array.from({ length: SKETCH_SIZE + 50 }, (_, i) => String(-9_000_000_000_000_000_000n + BigInt(i) * 10n ** 15n));
    const merged = mergeSketches(big.slice(0, 600), big.slice(600).reverse());
    expect(merged).toEqual(big.slice(0, SKETCH_SIZE));
    expect(distinctEstimate(merged)).toBeGreaterThan(SKETCH_SIZE);
    expect(distinctEstimate(merged.slice(1).concat(big[SKETCH_SIZE]!))).not.toBe(distinctEstimate(merged));
  });

  it('merges ascending sketches in one pass to what sorting their union as numbers gives (signs, lengths, shared hashes)', () => {
    const byNumber = (x: string[]): string[] => [...new Set(x)].map(BigInt).sort((p, q) => (p < q ? -1 : p > q ? 1 : 0)).map(String).slice(0, SKETCH_SIZE);
    let seed = 7;
    const random = (): bigint => {
      seed = (seed * 48271) % 2147483647;
      const digits = 1 + (seed % 19);
      const n = BigInt(String(seed).repeat(3).slice(0, digits));
      return seed % 2 === 0 ? -n : n;
    };
    for (let round = 0; round < 40; round++) {
      const pool = Array.from({ length: 1500 }, random);
      const a = byNumber(pool.slice(0, 100 + round * 30).map(String));
      const b = byNumber(pool.slice(50 + round * 20).map(String));
      expect(mergeSketches(a, b)).toEqual(byNumber([...a, ...b]));
    }
  });
});

describe('distinct-count sketch (embedded PGlite)', () => {
  it('computes the same sketch as PostgreSQL for the same values', async () => {
    const lite = new PGlite();
    const db = await createPgDatabase('sensei_sketch_lite');
    try {
      await lite.exec(SETUP);
      await pgExec(db.url, SETUP);
      const sql = columnStatsSql(COLUMNS, 's AS t', ' WHERE t.id <= 5000');
      await lite.exec(`SET TimeZone = 'UTC'`);
      const fromLite = readColumnStats(COLUMNS, (await lite.query<Record<string, unknown>>(sql)).rows[0]!);
      const fromPg = readColumnStats(COLUMNS, (await pgQuery(`${db.url}?options=-c%20TimeZone%3DUTC`, sql))[0]!);
      expect(fromLite.map((s) => s.sketch)).toEqual(fromPg.map((s) => s.sketch));
      expect(Math.abs(distinctEstimate(fromLite[2]!.sketch!) - 5000) / 5000).toBeLessThan(0.1);
    } finally {
      await lite.close();
      await db.drop();
    }
  }, 60_000);
});
