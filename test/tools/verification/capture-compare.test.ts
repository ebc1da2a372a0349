// Capture of a real PostgreSQL source (with a custom enum type), execution into a real PostgreSQL target, and the
// bucket-hash comparison that names the key of every tampered, deleted or extra row.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMapper } from '../../../agents/mapper.js';
import type { Catalog } from '../../../core/catalog.js';
import type { Plan } from '../../../core/plan.js';
import type { ErrorQueueEntry } from '../../../core/run.js';
import type { SourceConnector, TargetConnector } from '../../../connectors/connector.js';
import { openSource } from '../../../connectors/open-source.js';
import { openTarget } from '../../../connectors/open-target.js';
import { executePlan } from '../../../tools/execution/execute-plan.js';
import { captureSource, type SourceCapture } from '../../../tools/verification/capture-source.js';
import { compareWithCapture, diffRows, digestTargetRows, digestTargetTable, inMemoryDetail, queuedKeysByTarget, type TargetRowHash } from '../../../tools/verification/compare-capture.js';
import { SKETCH_SIZE, sketchBounds, type ColumnStats, type DigestShape } from '../../../tools/verification/row-digest.js';
import { detailEntries } from '../../fixtures/capture-detail.js';
import { createPgDatabase, pgExec, pgQuery, type TempDatabase } from '../../fixtures/databases.js';

const SOURCE_SQL = `
CREATE TYPE mood AS ENUM ('happy', 'sad', 'meh');
CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, feeling mood, balance numeric(10,2), seen timestamptz, score double precision);
CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers (id), total numeric(12,2), note text);
CREATE TABLE tags (label text, weight integer);
INSERT INTO customers SELECT g, 'Name ' || g || E' \\t "q"', (ARRAY['happy','sad','meh'])[1 + g % 3]::mood,
  CASE WHEN g % 7 = 0 THEN NULL ELSE (g * 1.25)::numeric(10,2) END, timestamptz '2024-01-01 10:00:00+02' + g * interval '1 hour', g / 3.0
  FROM generate_series(1, 1500) g;
INSERT INTO orders SELECT g, 1 + g % 1500, g * 0.5, CASE WHEN g % 5 = 0 THEN NULL ELSE 'note ' || g END FROM generate_series(1, 3000) g;
INSERT INTO tags VALUES ('a', 1), ('b', 2), ('a', 1);
`;

describe('capture → execute → compare with the capture', () => {
  let src: TempDatabase;
  let tgt: TempDatabase;
  let source: SourceConnector;
  let target: TargetConnector;
  let catalog: Catalog;
  let plan: Plan;
  let capture: SourceCapture;
  const queued: ErrorQueueEntry[] = [];

  beforeAll(async () => {
    src = await createPgDatabase('sensei_v8src');
    tgt = await createPgDatabase('sensei_v8tgt');
    await pgExec(src.url, SOURCE_SQL);
    source = await openSource(src.url);
    target = await openTarget(tgt.url);
    catalog = await source.catalog({ withCounts: true });
    plan = (await createMapper().plan({ source: catalog, target, thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 } })).plan;
    capture = await captureSource({ source, target, batchSize: 700 }, plan, catalog);
    await executePlan({ runId: 'r1', source, target, errors: { add: async (_r, e) => void queued.push(...e) }, batchSize: 700 }, plan, catalog);
  }, 120_000);

  afterAll(async () => {
    for (const t of capture?.tables ?? []) t.detail.release();
    await source?.close();
    await target?.close();
    await src?.drop();
    await tgt?.drop();
  });

  const compared = () => compareWithCapture(target, capture.tables, inMemoryDetail(capture.tables));
  const compare = async () => (await compared()).checks;

  it('captures every table with the expected rows, buckets and statistics, and leaves the target untouched by it', () => {
    expect(queued).toEqual([]);
    expect(capture.tables.map((t) => [t.target, t.rowsRead, t.rowsExpected, t.buckets, t.digests.reduce((a, d) => a + d.rows, 0)])).toEqual([
      ['customers', 1500, 1500, 4, 1500],
      ['orders', 3000, 3000, 8, 3000],
      ['tags', 3, 3, 1, 3],
    ]);
    const balance = capture.tables[0]!.stats.find((s) => s.column === 'balance')!;
    expect(balance).toMatchObject({ kind: 'numeric', rows: 1500, nulls: 214 });
    expect(Number(balance.sum)).toBeCloseTo(Array.from({ length: 1500 }, (_, i) => i + 1).filter((g) => g % 7 !== 0).reduce((a, g) => a + g * 1.25, 0), 2);
  });

  it('captures the whole table\'s column statistics though later batches sketch only below the sketch so far', async () => {
    // customers: 1500 distinct names in batches of 700, so the third batch is sketched below the first two's bound.
    for (const captured of capture.tables) {
      const whole = await digestTargetTable(target, captured.target, captured.shape, captured.buckets);
      // Sketches exactly (sums merged across batches may print differently, and are compared within a tolerance).
      const sketches = (stats: ColumnStats[]) => stats.map((st) => [st.column, st.rows, st.nulls, st.sketch]);
      expect(sketches(captured.stats), captured.target).toEqual(sketches(whole.stats));
    }
    expect(capture.tables[0]!.stats.find((s) => s.column === 'name')!.sketch).toHaveLength(SKETCH_SIZE);
  });

  it('passes right after execution: enum, timestamptz, float and decimal values hash equal on both sides', async () => {
    const { checks, matched } = await compared();
    expect(checks.map((c) => [c.check, c.passed, c.findings])).toEqual([
      ['rows equal the source as captured (bucket hashes, bisected to keys)', true, []],
      ['column statistics equal the source as captured', true, []],
    ]);
    // Every table equal in every bucket: what the certificate may take from the capture.
    expect(matched).toEqual(capture.tables.map((t) => ({ table: t.target, buckets: t.buckets, root: t.root, rows: t.rowsExpected })));
  });

  it('buckets rows by hashtextextended of the key, and still compares a capture stored with md5 buckets by md5', async () => {
    const customers = capture.tables.find((t) => t.target === 'customers')!;
    expect(customers.shape.bucketHash).toBe('hashtextextended');
    const mask = customers.buckets - 1;
    const byKey = async (shape: DigestShape): Promise<Map<string, number>> => {
      const out = new Map<string, number>();
      await digestTargetRows(target, 'customers', shape, customers.buckets, (rows) => rows.forEach(([b, k]) => out.set(k, b)));
      return out;
    };
    const expected = await pgQuery<{ id: number; b: string }>(tgt.url, `SELECT id, hashtextextended(ROW(id)::text, 0) & ${mask} AS b FROM customers`);
    const now = await byKey(customers.shape);
    expect(expected.every((r) => now.get(JSON.stringify([String(r.id)])) === Number(r.b))).toBe(true);
    // A capture made before the bucket hash was named: no bucketHash in its shape, rows bucketed by md5's first 32 bits.
    const md5Shape: DigestShape = { columns: customers.shape.columns, key: customers.shape.key };
    const old = await byKey(md5Shape);
    const md5Bucket = (id: number): number => parseInt(createHash('md5').update(`(${id})`).digest('hex').slice(0, 8), 16) & mask;
    expect(expected.every((r) => old.get(JSON.stringify([String(r.id)])) === md5Bucket(r.id))).toBe(true);
    expect([...old].filter(([k, b]) => now.get(k) !== b).length).toBeGreaterThan(100);
    const legacy = await digestTargetRows(target, 'customers', md5Shape, customers.buckets, () => undefined);
    expect(legacy.root).not.toBe(customers.root);
    const stored = { ...customers, shape: md5Shape, digests: legacy.digests, root: legacy.root };
    const [rows] = (await compareWithCapture(target, [stored], inMemoryDetail([]))).checks;
    expect([rows!.passed, rows!.findings]).toEqual([true, []]);
    // The same digests read as hashtextextended buckets differ: the stored shape's bucket hash is what is used.
    const misread = await compareWithCapture(target, [{ ...stored, shape: customers.shape }], inMemoryDetail([]));
    expect(misread.checks[0]!.passed).toBe(false);
    expect(misread.matched).toEqual([]);
  });

  it('streams every target row in bucket and hash order, a fetch at a time, with the digests and root of the capture', async () => {
    for (const captured of capture.tables) {
      const chunks: TargetRowHash[][] = [];
      const streamed = await digestTargetRows(target, captured.target, captured.shape, captured.buckets, (rows) => void chunks.push(rows), 400);
      expect(streamed.digests).toEqual(captured.digests);
      expect(streamed.root).toBe(captured.root);
      expect(chunks.every((c) => c.length <= 400)).toBe(true);
      const rows = chunks.flat();
      expect(rows).toHaveLength(captured.rowsExpected);
      const order = rows.map(([b, , h]) => `${String(b).padStart(4, '0')}:${h}`);
      expect(order).toEqual([...order].sort());
      // Each row with its full md5, as the capture's detail holds it.
      expect(rows.every(([, , h]) => /^[0-9a-f]{32}$/.test(h))).toBe(true);
      const detail = (await detailEntries(captured.detail)).flatMap(([b, list]) => list.map(([k, h]) => JSON.stringify([b, k, h])));
      expect(rows.map(([b, k, h]) => JSON.stringify([b, k, h])).sort()).toEqual(detail.sort());
    }
    expect(capture.tables.find((t) => t.target === 'customers')!.rowsExpected).toBeGreaterThan(3 * 400);
  });

  it('rolls back the streaming pass when the row sink fails, leaving the target usable', async () => {
    const customers = capture.tables.find((t) => t.target === 'customers')!;
    let calls = 0;
    const failing = digestTargetRows(target, customers.target, customers.shape, customers.buckets, () => {
      calls++;
      throw new Error('disk full');
    }, 400);
    await expect(failing).rejects.toThrow('disk full');
    expect(calls).toBe(1);
    const again = await digestTargetRows(target, customers.target, customers.shape, customers.buckets, () => undefined);
    expect(again.root).toBe(customers.root);
  });

  it('still passes when the source changes after the capture (time travel)', async () => {
    await pgExec(src.url, `UPDATE customers SET name = 'changed later' WHERE id = 5; DELETE FROM orders WHERE id = 7;`);
    const checks = await compare();
    expect(checks.every((c) => c.passed)).toBe(true);
  });

  it('names the key of a tampered, a deleted and an extra row, never a value', async () => {
    await pgExec(
      tgt.url,
      `UPDATE customers SET name = 'tampered secret' WHERE id = 42;
       DELETE FROM orders WHERE id = 2999;
       INSERT INTO orders (id, customer_id, total, note) VALUES (9001, 1, 1.00, 'extra');`,
    );
    try {
      const { checks: [content, stats], matched } = await compared();
      // Only the untouched table is equal to the capture in every bucket.
      expect(matched.map((m) => m.table)).toEqual(['tags']);
      expect(content!.passed).toBe(false);
      expect(content!.findings).toEqual([
        { code: 'row_changed', path: ['customers', 'id=42'], table: 'customers', key: { id: '42' }, message: 'customers (id=42): row differs from the captured source' },
        { code: 'rows_differ', path: ['customers'], table: 'customers', missing: 0, extra: 0, changed: 1, message: expect.stringContaining('customers: 0 missing, 0 extra, 1 changed') },
        { code: 'row_missing', path: ['orders', 'id=2999'], table: 'orders', key: { id: '2999' }, message: 'orders (id=2999): row of the captured source is missing from the target' },
        { code: 'row_extra', path: ['orders', 'id=9001'], table: 'orders', key: { id: '9001' }, message: 'orders (id=9001): row in the target that the captured source did not have' },
        { code: 'rows_differ', path: ['orders'], table: 'orders', missing: 1, extra: 1, changed: 0, message: expect.stringContaining('orders: 1 missing, 1 extra, 0 changed') },
      ]);
      expect(JSON.stringify(content)).not.toContain('tampered');
      expect(stats!.passed).toBe(false);
      expect(stats!.findings.map((f) => f.path.join('.'))).toEqual([
        'customers.name.total_length',
        'customers.name.distinct',
        'orders.id.max',
        'orders.id.sum',
        'orders.id.distinct',
        'orders.customer_id.sum',
        'orders.total.sum',
        'orders.total.distinct',
        'orders.note.min_length',
        'orders.note.total_length',
        'orders.note.distinct',
      ]);
      expect(JSON.stringify(stats)).not.toContain('tampered');
    } finally {
      await pgExec(
        tgt.url,
        `UPDATE customers SET name = 'Name 42' || E' \\t "q"' WHERE id = 42;
         INSERT INTO orders VALUES (2999, 1 + 2999 % 1500, 2999 * 0.5, 'note 2999');
         DELETE FROM orders WHERE id = 9001;`,
      );
    }
    expect((await compare()).every((c) => c.passed)).toBe(true);
  });

  it('does not report a row the run queued after the capture as missing, and says why statistics were skipped', async () => {
    await pgExec(tgt.url, 'DELETE FROM orders WHERE id IN (100, 101)');
    try {
      const queued = queuedKeysByTarget(plan, [{ table: 'orders', key: { id: '100' } }]);
      const { checks: [content, stats], matched } = await compareWithCapture(target, capture.tables, inMemoryDetail(capture.tables), queued);
      // A queued row's absence is accounted for, but the table is not the capture bucket for bucket.
      expect(matched.map((m) => m.table)).toEqual(['customers', 'tags']);
      expect(content!.findings.map((f) => f.path)).toEqual([['orders', 'id=101'], ['orders']]);
      expect(stats!.check).toBe('column statistics equal the source as captured (not compared for orders: rows queued during execution or written by errors retry)');
      expect(stats!.passed).toBe(true);
    } finally {
      await pgExec(tgt.url, 'INSERT INTO orders SELECT g, 1 + g % 1500, g * 0.5, CASE WHEN g % 5 = 0 THEN NULL ELSE \'note \' || g END FROM generate_series(100, 101) g');
    }
    expect((await compare()).every((c) => c.passed)).toBe(true);
  });

  it('finds a value changed to a duplicate of another by the distinct count alone, naming table and column', async () => {
    await pgExec(tgt.url, `UPDATE tags SET label = 'a' WHERE label = 'b'`);
    try {
      const [, stats] = await compare();
      expect(stats!.passed).toBe(false);
      expect(stats!.findings).toEqual([
        { code: 'stat_mismatch', path: ['tags', 'label', 'distinct'], statistic: 'distinct', expected: '2', actual: '1', message: 'tags.label: the set of distinct values differs from the captured source (1 distinct in the target, 2 in the captured source)' },
      ]);
      // A capture stored before the sketch existed holds none: its distinct count is not compared.
      const older = capture.tables.map((t) => ({ ...t, stats: t.stats.map(({ sketch: _, ...rest }) => rest) }));
      const [, oldStats] = (await compareWithCapture(target, older, inMemoryDetail(capture.tables))).checks;
      expect(oldStats!.passed).toBe(true);
    } finally {
      await pgExec(tgt.url, `UPDATE tags SET label = 'b' WHERE weight = 2`);
    }
    expect((await compare()).every((c) => c.passed)).toBe(true);
  });

  it('finds a value changed to a new one by the sketch when the distinct count stays, and says the sets differ, not the counts', async () => {
    await pgExec(tgt.url, `UPDATE tags SET label = 'z' WHERE label = 'b'`);
    try {
      const [, stats] = await compare();
      expect(stats!.findings).toEqual([
        { code: 'stat_mismatch', path: ['tags', 'label', 'distinct'], statistic: 'distinct', expected: '2', actual: '2', message: 'tags.label: the set of distinct values differs from the captured source: 2 distinct in both, but not the same values' },
      ]);
    } finally {
      await pgExec(tgt.url, `UPDATE tags SET label = 'b' WHERE label = 'z'`);
    }
    expect((await compare()).every((c) => c.passed)).toBe(true);
  });

  it('finds a duplicated value in a column past the sketch size (1500 names) by its sketch, never showing a value', async () => {
    // The name with the smallest hash becomes a copy of another name: it leaves the sketch (its rounded estimate may not move).
    const [first] = await pgQuery<{ id: number }>(tgt.url, `SELECT id FROM customers ORDER BY hashtextextended(name::text, 0) LIMIT 1`);
    await pgExec(tgt.url, `UPDATE customers SET name = (SELECT name FROM customers WHERE id = ${first!.id === 1 ? 2 : 1}) WHERE id = ${first!.id}`);
    try {
      const [, stats] = await compare();
      const distinct = stats!.findings.find((f) => f.path.join('.') === 'customers.name.distinct');
      expect(stats!.findings.map((f) => f.path.join('.'))).toEqual(['customers.name.total_length', 'customers.name.distinct']);
      expect(distinct).toMatchObject({ statistic: 'distinct', message: expect.stringMatching(/^customers\.name: the set of distinct values differs from the captured source(: about \d+ distinct in both, but not the same values| \(about \d+ distinct in the target, about \d+ in the captured source\))$/) });
      expect(JSON.stringify(stats)).not.toMatch(/Name \d/);
    } finally {
      await pgExec(tgt.url, `UPDATE customers SET name = 'Name ' || id || E' \\t "q"' WHERE id = ${first!.id}`);
    }
    expect((await compare()).every((c) => c.passed)).toBe(true);
  });

  it('finds a changed row in a table without a key by its content', async () => {
    await pgExec(tgt.url, `UPDATE tags SET weight = 3 WHERE label = 'b'`);
    const [content] = await compare();
    expect(content!.findings.map((f) => f.code)).toEqual(['row_missing', 'row_extra', 'rows_differ']);
    expect(content!.findings[0]!.path[0]).toBe('tags');
  });
});

describe('row differences by the full md5', () => {
  const shape = { columns: [{ name: 'id', type: 'integer' }], key: ['id'] };
  const h = (c: string): string => c.repeat(32);
  const target = new Map<number, Array<[string, string]>>([[0, [['["1"]', h('a')], ['["2"]', `${'b'.repeat(16)}${'c'.repeat(16)}`]]]]);

  it('names a row whose md5 differs only after its 16th hex digit', () => {
    const captured = new Map<number, Array<[string, string]>>([[0, [['["1"]', h('a')], ['["2"]', h('b')]]]]);
    expect(diffRows(shape, captured, target, [0])).toEqual({ missing: [], extra: [], changed: [{ id: '2' }] });
  });

  it('compares a capture stored with 16 hex digits per row by those 16 (it cannot tell more)', () => {
    const stored = new Map<number, Array<[string, string]>>([[0, [['["1"]', 'a'.repeat(16)], ['["2"]', 'b'.repeat(16)]]]]);
    expect(diffRows(shape, stored, target, [0])).toEqual({ missing: [], extra: [], changed: [] });
    const changed = new Map<number, Array<[string, string]>>([[0, [['["1"]', 'f'.repeat(16)], ['["2"]', 'b'.repeat(16)]]]]);
    expect(diffRows(shape, changed, target, [0]).changed).toEqual([{ id: '1' }]);
  });
});

describe('distinct-count sketches bounded by the captured one', () => {
  let db: TempDatabase;
  let target: TargetConnector;
  const shape: DigestShape = { columns: [{ name: 'id', type: 'integer' }, { name: 'name', type: 'text' }, { name: 'grp', type: 'integer' }], key: ['id'], bucketHash: 'hashtextextended' };

  beforeAll(async () => {
    db = await createPgDatabase('sensei_sketch');
    // 3000 distinct names (a full sketch, so bounded), 10 groups (a short one, so never bounded).
    await pgExec(db.url, `CREATE TABLE people (id integer PRIMARY KEY, name text, grp integer); INSERT INTO people SELECT g, 'person ' || g, g % 10 FROM generate_series(1, 3000) g;`);
    target = await openTarget(db.url);
  }, 60_000);

  afterAll(async () => {
    await target?.close();
    await db?.drop();
  });

  const unbounded = async () => (await digestTargetTable(target, 'people', shape, 8)).stats;
  const bounded = async (expected: ColumnStats[]) => (await digestTargetTable(target, 'people', shape, 8, undefined, expected)).stats;

  it('gives the statistics of the whole table whether the target kept, gained or lost the values below the bound', async () => {
    const captured = await unbounded();
    const nameSketch = captured.find((s) => s.column === 'name')!.sketch!;
    expect(nameSketch).toHaveLength(SKETCH_SIZE);
    expect(sketchBounds(shape.columns, captured)).toEqual([captured[0]!.sketch![SKETCH_SIZE - 1], nameSketch[SKETCH_SIZE - 1], null]);
    // Kept: the bounded sketch is full, and equal.
    expect(await bounded(captured)).toEqual(captured);
    // Lost: names whose hashes are among the smallest change to an existing name; the bounded sketch comes out short
    // and is made again over the whole table.
    await pgExec(db.url, `UPDATE people SET name = 'person 1' WHERE id IN (SELECT id FROM people ORDER BY hashtextextended(name, 0) LIMIT 5)`);
    const lost = await unbounded();
    expect(lost.find((s) => s.column === 'name')!.sketch).not.toEqual(nameSketch);
    expect(await bounded(captured)).toEqual(lost);
    // Gained: new names below the bound; the bounded sketch is full and is the whole table's.
    await pgExec(db.url, `INSERT INTO people SELECT g, 'newcomer ' || g, 1 FROM generate_series(5001, 8000) g`);
    const gained = await unbounded();
    expect(await bounded(captured)).toEqual(gained);
  });
});
