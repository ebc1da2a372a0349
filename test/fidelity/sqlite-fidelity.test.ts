// SQLite → PostgreSQL fidelity: affinities and dynamically typed columns, compared in SQL on both sides.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDatabase, pgQuery, tempDir, type TempDatabase } from '../fixtures/databases.js';
import { countsBalance, migrateDirect, type DirectMigration } from '../fixtures/direct-migration.js';

/** [column, SQLite canonical text, PostgreSQL canonical text]. Reals compare as numbers from 17 significant digits. */
const COMPARE: [string, string, string][] = [
  ['i', 'CAST(i AS TEXT)', 'i::text'],
  ['r', "printf('%.17g', r)", 'r::text'],
  ['t', 'hex(t)', "upper(encode(convert_to(t, 'UTF8'), 'hex'))"],
  ['b', 'hex(b)', "upper(encode(b, 'hex'))"],
  ['n', 'CAST(n AS TEXT)', 'n::text'],
  ['flag', 'CAST(flag AS TEXT)', "CASE WHEN flag THEN '1' WHEN NOT flag THEN '0' END"],
  ['d', 'd', "to_char(d, 'YYYY-MM-DD')"],
  ['anyint', 'CAST(anyint AS TEXT)', 'anyint::text'],
  ['mixednum', "CASE typeof(mixednum) WHEN 'real' THEN printf('%.17g', mixednum) ELSE CAST(mixednum AS TEXT) END", 'mixednum::text'],
  ['mixed', 'hex(CAST(mixed AS BLOB))', "upper(encode(mixed, 'hex'))"],
];

describe('SQLite → PostgreSQL fidelity', () => {
  const dir = tempDir('sensei-fid-');
  const path = join(dir.path, 'torture.db');
  let tgt: TempDatabase;
  let run: DirectMigration;

  beforeAll(async () => {
    const db = new Database(path);
    db.exec(`CREATE TABLE torture (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, n NUMERIC(20,4), flag BOOLEAN,
               d DATE, anyint, mixednum, mixed, ix TEXT);
             CREATE INDEX torture_ix ON torture (ix);
             CREATE TABLE keyless (a TEXT, b INTEGER);
             CREATE TABLE textkey (code TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID;
             CREATE TABLE empty_one (id INTEGER PRIMARY KEY);`);
    const ins = db.prepare('INSERT INTO torture VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    // JS numbers bind as REAL: integers are passed as bigint so SQLite stores them as INTEGER.
    ins.run(1n, 9223372036854775807n, 0.1, 'A é 中 😀 𝄞 \u{10FFFD}', Buffer.from([0, 255, 16]), '1234567890123456.1234', 1n, '0009-12-04', 1n, 1n, 1n, 'x');
    ins.run(2n, -9223372036854775808n, 1e308, '', Buffer.alloc(0), -0.5, 0n, '2024-02-29', 2n, 2.5, 'two', 'y');
    ins.run(3n, 0n, -5e-324, 'tab\there\nnewline \\ back', Buffer.from('text as blob'), 0n, null, null, 9007199254740993n, 3n, 3.25, 'x');
    ins.run(4n, null, null, null, null, null, null, null, null, null, Buffer.from([1, 2]), null);
    db.prepare('INSERT INTO keyless VALUES (?, ?)').run('dup', 1);
    db.prepare('INSERT INTO keyless VALUES (?, ?)').run('dup', 1);
    db.prepare('INSERT INTO textkey VALUES (?, ?)').run('b', 2);
    db.prepare('INSERT INTO textkey VALUES (?, ?)').run('a', 1);
    db.close();
    tgt = await createPgDatabase('sensei_fid');
    run = await migrateDirect(`sqlite://${path}`, tgt.url, { batchSize: 3 });
  }, 120_000);

  afterAll(async () => {
    await tgt?.drop();
    dir.remove();
  });

  it('writes every row and the counts balance', () => {
    expect(run.errors).toEqual([]);
    expect(countsBalance(run.outcomes)).toBe(true);
    expect(Object.fromEntries(run.outcomes.map((o) => [o.source, o.rows_written]))).toEqual({ empty_one: 0, keyless: 2, textkey: 2, torture: 4 });
  });

  it('keeps every value, compared in SQL on both sides', async () => {
    const db = new Database(path, { readonly: true });
    const mine = (db.prepare(`SELECT ${COMPARE.map(([c, s]) => `CASE WHEN "${c}" IS NULL THEN NULL ELSE ${s} END AS "${c}"`).join(', ')} FROM torture ORDER BY id`).all() as Record<string, unknown>[]).map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)])),
    );
    db.close();
    const theirs = await pgQuery<Record<string, string | null>>(tgt.url, `SELECT ${COMPARE.map(([c, , p]) => `${p} AS "${c}"`).join(', ')} FROM torture ORDER BY id`);
    for (const row of [...mine, ...theirs]) for (const k of ['r', 'mixednum', 'n']) if (row[k] != null) row[k] = String(Number(row[k]));
    expect(theirs).toEqual(mine);
  });

  it('infers types from the data for untyped columns and reports mixed ones as plan warnings', async () => {
    const types = await pgQuery<{ c: string; t: string }>(
      tgt.url,
      "SELECT attname AS c, format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'public.torture'::regclass AND attnum > 0 ORDER BY attnum",
    );
    expect(Object.fromEntries(types.map((r) => [r.c, r.t]))).toMatchObject({ anyint: 'bigint', mixednum: 'numeric', mixed: 'bytea', flag: 'boolean', n: 'numeric(20,4)' });
    expect(run.plan.warnings).toEqual(
      expect.arrayContaining([
        'source column torture.anyint: declared without a type, holds integer ×3: migrated as int64, the type the data says',
        'source column torture.mixednum: declared without a type, holds integer ×2, real ×1 (mixed storage classes): migrated as decimal, the type the data says',
        'source column torture.mixed: declared without a type, holds integer ×1, real ×1, text ×1, blob ×1 (mixed storage classes): migrated as bytes, the type the data says',
      ]),
    );
    const idx = await pgQuery<{ n: string }>(tgt.url, "SELECT indexname AS n FROM pg_indexes WHERE tablename = 'torture' ORDER BY 1");
    expect(idx.map((r) => r.n)).toEqual(['ix_torture_ix', 'torture_pkey']);
  });

  it('copies keyless tables with their duplicates and text keys in key order', async () => {
    expect(await pgQuery(tgt.url, 'SELECT a, b::int AS b FROM keyless')).toEqual([{ a: 'dup', b: 1 }, { a: 'dup', b: 1 }]);
    expect(await pgQuery(tgt.url, 'SELECT code, v::int AS v FROM textkey ORDER BY code')).toEqual([{ code: 'a', v: 1 }, { code: 'b', v: 2 }]);
  });
});
