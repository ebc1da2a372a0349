// The pattern library on a real embedded PGlite store: learning mappings, similarity search, provenance, refusals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlanError } from '../../../core/errors.js';
import type { PatternRecord } from '../../../core/profile.js';
import { computeColumnStats } from '../../../tools/analysis/fingerprint.js';
import { createPatternLibrary } from '../../../tools/patterns/pattern-library.js';
import { nameVector } from '../../../tools/patterns/name-vector.js';
import { openStore, type SenseiStore } from '../../../tools/store/sensei-store.js';
import { tempDir } from '../../fixtures/databases.js';
import { homeWithStore } from '../../fixtures/store-template.js';

const dir = tempDir('sensei-patterns-');
let store: SenseiStore;
beforeAll(async () => {
  store = await openStore({ home: homeWithStore(dir.path) });
});
afterAll(async () => {
  await store?.close();
  dir.remove();
});

const emails = (n: number, domain: string) => Array.from({ length: n }, (_, i) => `user${i}.x@${domain}`);
const dates = (n: number) => Array.from({ length: n }, (_, i) => `19${50 + (i % 49)}-0${1 + (i % 9)}-1${i % 9}`);
const fp = (values: string[]) => computeColumnStats(values).fingerprint;

function entry(over: Partial<PatternRecord>): PatternRecord {
  return {
    tableName: 'CUSTOMERS',
    columnName: 'EMAIL_ADDR',
    fingerprint: fp(emails(200, 'example.com')),
    semanticType: 'email',
    targetTable: 'customer',
    targetColumn: 'email',
    transformation: 'lower(btrim({{col}}))',
    runId: 'run-1',
    approvedBy: 'alice',
    ...over,
  };
}

describe('pattern library on PGlite + pgvector', () => {
  it('returns nothing from an empty library', async () => {
    const lib = createPatternLibrary(store.pool);
    expect(await lib.search({ tableName: 't', columnName: 'c', fingerprint: fp(['a', 'b']) })).toEqual([]);
  });

  it('learns mappings and finds the most similar column of another database first, with provenance', async () => {
    const lib = createPatternLibrary(store.pool);
    await lib.record(entry({}));
    await lib.record(entry({ columnName: 'BIRTH_DT', fingerprint: fp(dates(300)), semanticType: 'date_of_birth', targetColumn: 'birth_date', transformation: "to_date({{col}}, 'YYYY-MM-DD')", runId: 'run-2', approvedBy: 'bob' }));
    await lib.record(entry({ columnName: 'CUST_NM', fingerprint: fp(['Ann Lee', 'Bo Chan', 'Cy Diaz', 'Di Eng']), semanticType: 'person_name', targetColumn: 'full_name', transformation: '{{col}}' }));

    // A column from elsewhere: other table, other naming convention, other size and domain.
    const hits = await lib.search({ tableName: 'clients', columnName: 'email_address', fingerprint: fp(emails(37, 'corp.org')) }, 3);
    expect(hits).toHaveLength(3);
    expect(hits[0]).toMatchObject({
      sourceTable: 'CUSTOMERS',
      sourceColumn: 'EMAIL_ADDR',
      semanticType: 'email',
      targetTable: 'customer',
      targetColumn: 'email',
      transformation: 'lower(btrim({{col}}))',
      provenance: { runId: 'run-1', approvedBy: 'alice', at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) },
    });
    expect(hits[0]!.score).toBeGreaterThan(0.7);
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
    expect(hits[1]!.score).toBeGreaterThanOrEqual(hits[2]!.score);

    // The dates column is found by its statistics even under an unrelated name.
    const byData = await lib.search({ tableName: 'x', columnName: 'col_17', fingerprint: fp(dates(50)) }, 1);
    expect(byData[0]).toMatchObject({ sourceColumn: 'BIRTH_DT', provenance: { runId: 'run-2', approvedBy: 'bob' } });
  });

  it('scores 0.7 × fingerprint cosine + 0.3 × name cosine (identical column and name = 1)', async () => {
    const lib = createPatternLibrary(store.pool);
    const e = entry({});
    const [same] = await lib.search({ tableName: e.tableName, columnName: e.columnName, fingerprint: e.fingerprint }, 1);
    expect(same!.score).toBeCloseTo(1, 5);
    // Same fingerprint, a name with nothing in common: only the fingerprint part remains (name cosine 0 or small).
    const nv1 = nameVector('CUSTOMERS', 'EMAIL_ADDR');
    const nv2 = nameVector('zz', 'qqq');
    const nameCos = nv1.reduce((a, x, i) => a + x * nv2[i]!, 0);
    const [other] = (await lib.search({ tableName: 'zz', columnName: 'qqq', fingerprint: e.fingerprint }, 5)).filter((h) => h.sourceColumn === 'EMAIL_ADDR');
    expect(other!.score).toBeCloseTo(0.7 + 0.3 * nameCos, 5);
  });

  it('recording the same mapping again refreshes it instead of duplicating it', async () => {
    const lib = createPatternLibrary(store.pool);
    await lib.record(entry({ runId: 'run-9', approvedBy: 'carol' }));
    const { rows } = await store.pool.query<{ n: number; times: number; run_id: string }>(
      "SELECT count(*)::int AS n, max(times_recorded) AS times, max(run_id) AS run_id FROM sensei_patterns WHERE source_column = 'EMAIL_ADDR'",
    );
    expect(rows[0]).toEqual({ n: 1, times: 2, run_id: 'run-9' });
    const [hit] = await lib.search({ tableName: 'CUSTOMERS', columnName: 'EMAIL_ADDR', fingerprint: entry({}).fingerprint }, 1);
    expect(hit!.provenance).toMatchObject({ runId: 'run-9', approvedBy: 'carol' });
  });

  it('stores fingerprints and names only: no sampled value reaches the table', async () => {
    const { rows } = await store.pool.query('SELECT * FROM sensei_patterns');
    expect(JSON.stringify(rows)).not.toMatch(/example\.com|user\d+\.x|Ann Lee/);
  });

  it('refuses a transformation outside the SQL allow-list, an incomplete record and a malformed fingerprint', async () => {
    const lib = createPatternLibrary(store.pool);
    await expect(lib.record(entry({ transformation: '(SELECT password FROM pg_authid LIMIT 1)' }))).rejects.toThrow(/not allowed/);
    await expect(lib.record(entry({ transformation: 'pg_sleep(10)' }))).rejects.toThrow(PlanError);
    await expect(lib.record(entry({ approvedBy: ' ' }))).rejects.toThrow(/approvedBy is empty/);
    await expect(lib.record(entry({ fingerprint: [1, 2, 3] }))).rejects.toThrow(/128 finite numbers \(got 3\)/);
    await expect(lib.search({ tableName: 't', columnName: 'c', fingerprint: new Array(128).fill(Number.NaN) })).rejects.toThrow(PlanError);
    const { rows } = await store.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM sensei_patterns WHERE transformation LIKE '%pg_%'");
    expect(rows[0]!.n).toBe(0);
  });

  it('has HNSW cosine indexes on both the fingerprint and the name vector', async () => {
    const { rows } = await store.pool.query<{ indexname: string; indexdef: string }>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'sensei_patterns' AND indexdef LIKE '%hnsw%' ORDER BY indexname",
    );
    expect(rows.map((r) => r.indexname)).toEqual(['sensei_patterns_fingerprint', 'sensei_patterns_name']);
    expect(rows.every((r) => r.indexdef.includes('vector_cosine_ops'))).toBe(true);
  });
});
