// What relationship inference keeps of each profiled table (not the whole sample), and that it still finds references.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog, TableDef } from '../../../core/catalog.js';
import type { SourceConnector } from '../../../connectors/connector.js';
import { openSource } from '../../../connectors/open-source.js';
import { computeColumnStats, SHARE_CAP, type ColumnStats } from '../../../tools/analysis/fingerprint.js';
import { relationshipEvidence } from '../../../tools/analysis/infer-relationships.js';
import { profileCatalog } from '../../../tools/analysis/profile-catalog.js';
import { sampleTable } from '../../../tools/analysis/sample-table.js';
import { tempDir } from '../../fixtures/databases.js';

const dir = tempDir('sensei-relationships-');
const file = join(dir.path, 'shop.db');
const RETURNS = SHARE_CAP + 100;

beforeAll(() => {
  const db = new Database(file);
  // Tables are profiled in name order: A_RETURN and BRANCH, which refer to other tables, come before those tables.
  db.exec(`
    CREATE TABLE A_RETURN (RET_ID INTEGER PRIMARY KEY, ORDER_ID INTEGER, LINE_NO INTEGER, REASON TEXT);
    CREATE TABLE BRANCH (BRANCH_ID INTEGER PRIMARY KEY, ZONE_CD TEXT, OPENED TEXT);
    CREATE TABLE ORDER_LINE (ORDER_ID INTEGER NOT NULL, LINE_NO INTEGER NOT NULL, QTY INTEGER, PRIMARY KEY (ORDER_ID, LINE_NO));
    CREATE TABLE ZONE (ZONE_CD TEXT, ZONE_NAME TEXT);
  `);
  db.exec('BEGIN');
  const line = db.prepare('INSERT INTO ORDER_LINE VALUES (?,?,?)');
  for (let o = 1; o <= 1500; o++) for (let n = 1; n <= 2; n++) line.run(o, n, 1 + ((o + n) % 7));
  const ret = db.prepare('INSERT INTO A_RETURN VALUES (?,?,?,?)');
  // Every return names an existing order line (the tuple), with more distinct reasons than SHARE_CAP.
  for (let r = 1; r <= RETURNS; r++) ret.run(r, 1 + (r % 1500), 1 + (r % 2), `reason number ${r}`);
  const zone = db.prepare('INSERT INTO ZONE VALUES (?,?)');
  for (let z = 1; z <= 40; z++) zone.run(`Z${String(z).padStart(3, '0')}`, `Zone ${z}`);
  const branch = db.prepare('INSERT INTO BRANCH VALUES (?,?,?)');
  for (let b = 1; b <= 300; b++) branch.run(b, `Z${String(1 + (b % 40)).padStart(3, '0')}`, `2020-01-${String(1 + (b % 28)).padStart(2, '0')}`);
  db.exec('COMMIT');
  db.close();
});
afterAll(() => dir.remove());

let source: SourceConnector;
let catalog: Catalog;
beforeAll(async () => {
  source = await openSource(`sqlite://${file}`);
  catalog = await source.catalog({ withCounts: true });
});
afterAll(async () => source?.close());

const table = (name: string): TableDef => catalog.tables.find((t) => t.name === name)!;

async function evidenceOf(name: string, limit?: number) {
  const t = table(name);
  const sample = await sampleTable(source, t, limit, () => 0.5);
  const stats = new Map<string, ColumnStats>(sample.columns.map((c, i) => [c, computeColumnStats(sample.values[i]!.slice(0, sample.rows))]));
  return { sample, stats, kept: relationshipEvidence(catalog, t, sample, stats) };
}

describe('relationshipEvidence', () => {
  it('keeps every distinct value of a declared single-column key only, and the first SHARE_CAP values of the others', async () => {
    const { stats, kept } = await evidenceOf('A_RETURN');
    const reason = kept.stats.get('REASON')!;
    expect({ ...reason, firstDistinct: reason.firstDistinct.length }).toEqual({ rows: RETURNS, nulls: 0, distinctCount: RETURNS, firstDistinct: SHARE_CAP, keyValues: null });
    expect(reason.firstDistinct).toEqual([...stats.get('REASON')!.distinct.keys()].slice(0, SHARE_CAP));
    expect(kept.stats.get('RET_ID')!.keyValues!.has(String(RETURNS))).toBe(true);
    expect(kept.stats.get('ORDER_ID')!.keyValues).toBeNull();
  });

  it('keeps the sampled values of the columns named in a composite key of any table, and no others', async () => {
    const { sample, kept } = await evidenceOf('A_RETURN');
    expect(kept.sample.columns).toEqual(['ORDER_ID', 'LINE_NO']);
    expect(kept.sample.values).toEqual([sample.values[1], sample.values[2]]);
    expect(kept.sample).toMatchObject({ rows: RETURNS, complete: true });
    expect((await evidenceOf('BRANCH')).kept.sample.columns).toEqual([]);
  });

  it('keeps a unique, never-null column of a table without keys as a key only when its sample is the whole table', async () => {
    expect((await evidenceOf('ZONE')).kept.stats.get('ZONE_CD')!.keyValues!.has('Z040')).toBe(true);
    const sampled = await evidenceOf('ZONE', 20);
    expect(sampled.sample.complete).toBe(false);
    expect(sampled.kept.stats.get('ZONE_CD')!.keyValues).toBeNull();
  });
});

describe('profileCatalog with compact evidence', () => {
  it('still infers references whose key table is profiled after the referring one: composite and undeclared keys', async () => {
    const { catalog: profiled } = await profileCatalog(source, catalog);
    const rels = profiled.relationships ?? [];
    const find = (t: string, cols: string[]) => rels.find((r) => r.table === t && r.columns.join() === cols.join());
    expect(find('A_RETURN', ['ORDER_ID', 'LINE_NO'])).toMatchObject({ refTable: 'ORDER_LINE', refColumns: ['ORDER_ID', 'LINE_NO'] });
    expect(find('A_RETURN', ['ORDER_ID', 'LINE_NO'])!.evidence).toMatch(/inclusion 100% of row tuples/);
    expect(find('BRANCH', ['ZONE_CD'])).toMatchObject({ refTable: 'ZONE', refColumns: ['ZONE_CD'] });
    expect(find('BRANCH', ['ZONE_CD'])!.evidence).toMatch(/inclusion 100% of 40 distinct values in ZONE\.ZONE_CD/);
    // A column that is no key anywhere is not referred to.
    expect(rels.find((r) => r.refTable === 'A_RETURN' && r.refColumns.join() === 'REASON')).toBeUndefined();
  });
});
