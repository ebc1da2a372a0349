// Non-literal column defaults on a generated target, per source: translated when PostgreSQL has the same thing
// (identity for auto-increment with the sequence set past the loaded keys, current date/time, UUIDs, constant
// arithmetic), otherwise dropped with a warning naming table and column. The DDL runs on the real server every time.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlDatabase, createPgDatabase, mysqlExec, pgExec, pgQuery, tempDir, type TempDatabase } from '../fixtures/databases.js';
import { countsBalance, migrateDirect, type DirectMigration } from '../fixtures/direct-migration.js';

const WHY = 'is not carried over: Sensei translates literals, the current date and time, UUID generators, constant arithmetic and auto-increment; set it on the target if it is needed';

/** Identity columns of the target's public schema. */
const identities = (url: string) =>
  pgQuery(url, "SELECT table_name AS t, column_name AS c, identity_generation AS g FROM information_schema.columns WHERE table_schema = 'public' AND is_identity = 'YES' ORDER BY 1, 2");

describe('MariaDB defaults', () => {
  let src: TempDatabase;
  let tgt: TempDatabase;
  let run: DirectMigration;

  beforeAll(async () => {
    src = await createMysqlDatabase('sensei_dflt');
    await mysqlExec(
      src.url,
      `CREATE TABLE counters (
         id INT AUTO_INCREMENT PRIMARY KEY,
         made DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
         ref CHAR(36) DEFAULT (uuid()),
         n INT DEFAULT (1 + 2),
         label VARCHAR(20) DEFAULT (concat('a', 'b')),
         d DATE DEFAULT (curdate()));
       INSERT INTO counters (id) VALUES (5), (41);
       CREATE TABLE huge (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, v INT);
       INSERT INTO huge (v) VALUES (1);
       CREATE TABLE empty_auto (id SMALLINT AUTO_INCREMENT PRIMARY KEY, v INT);`,
    );
    tgt = await createPgDatabase('sensei_dflt');
    run = await migrateDirect(src.url, tgt.url);
  }, 60_000);

  afterAll(async () => {
    await src?.drop();
    await tgt?.drop();
  });

  it('makes AUTO_INCREMENT an identity whose next value follows the largest loaded key', async () => {
    expect(countsBalance(run.outcomes)).toBe(true);
    expect(await identities(tgt.url)).toEqual([
      { t: 'counters', c: 'id', g: 'BY DEFAULT' },
      { t: 'empty_auto', c: 'id', g: 'BY DEFAULT' },
    ]);
    const [row] = await pgQuery(tgt.url, 'INSERT INTO counters DEFAULT VALUES RETURNING id, n, ref IS NOT NULL AS has_ref, made IS NOT NULL AS has_made, d = CURRENT_DATE AS today, label');
    expect(row).toEqual({ id: 42, n: 3, has_ref: true, has_made: true, today: true, label: null });
    expect(await pgQuery(tgt.url, 'INSERT INTO empty_auto (v) VALUES (1) RETURNING id')).toEqual([{ id: 1 }]);
  });

  it('warns, naming table and column, about every default and auto-increment it drops', () => {
    const warnings = run.plan.warnings;
    expect(warnings).toContain(`default of counters.label (concat('a','b')) ${WHY}`);
    expect(warnings).toContain(
      'auto-increment of huge.id is not carried over: its target type numeric(20,0) cannot be an identity column; new rows need their own key (cast it to bigint if every key fits)',
    );
    expect(warnings).toContain('source column counters.made: ON UPDATE CURRENT_TIMESTAMP is not carried over: the target column keeps only its default');
    expect(warnings.filter((w) => /default of|auto-increment of/.test(w))).toHaveLength(2);
  });

  it('takes a cast to bigint as the way to keep a BIGINT UNSIGNED auto-increment', async () => {
    const other = await createPgDatabase('sensei_dflt');
    try {
      const again = await migrateDirect(src.url, other.url, { casts: { 'huge.id': 'bigint' } });
      expect(again.plan.warnings.some((w) => w.startsWith('auto-increment of huge.id'))).toBe(false);
      expect(await pgQuery(other.url, 'INSERT INTO huge (v) VALUES (2) RETURNING id::int AS id')).toEqual([{ id: 2 }]);
    } finally {
      await other.drop();
    }
  }, 60_000);
});

describe('PostgreSQL defaults', () => {
  let src: TempDatabase;
  let tgt: TempDatabase;
  let run: DirectMigration;

  beforeAll(async () => {
    src = await createPgDatabase('sensei_dflt_src');
    await pgExec(
      src.url,
      `CREATE TABLE s (id serial PRIMARY KEY, at timestamptz DEFAULT now(), u uuid DEFAULT gen_random_uuid(), n int DEFAULT (2 * 60), low text DEFAULT lower('X'));
       INSERT INTO s (id) VALUES (7);
       CREATE TABLE i (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v int);
       INSERT INTO i (v) VALUES (1), (2);`,
    );
    tgt = await createPgDatabase('sensei_dflt');
    run = await migrateDirect(src.url, tgt.url);
  }, 60_000);

  afterAll(async () => {
    await src?.drop();
    await tgt?.drop();
  });

  it('makes serial and identity columns identities past the loaded keys and keeps the translatable defaults', async () => {
    expect(countsBalance(run.outcomes)).toBe(true);
    expect(await identities(tgt.url)).toEqual([
      { t: 'i', c: 'id', g: 'BY DEFAULT' },
      { t: 's', c: 'id', g: 'BY DEFAULT' },
    ]);
    expect(await pgQuery(tgt.url, 'INSERT INTO s DEFAULT VALUES RETURNING id, at IS NOT NULL AS has_at, u IS NOT NULL AS has_u, n, low')).toEqual([
      { id: 8, has_at: true, has_u: true, n: 120, low: null },
    ]);
    expect(await pgQuery(tgt.url, 'INSERT INTO i (v) VALUES (3) RETURNING id::int AS id')).toEqual([{ id: 3 }]);
    expect(run.plan.warnings.filter((w) => w.startsWith('default of'))).toEqual([`default of s.low (lower('X'::text)) ${WHY}`]);
  });
});

describe('SQLite defaults', () => {
  const dir = tempDir('sensei-dflt-');
  let tgt: TempDatabase;
  let run: DirectMigration;

  beforeAll(async () => {
    const path = join(dir.path, 'd.db');
    const db = new Database(path);
    db.exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, created TEXT DEFAULT CURRENT_TIMESTAMP, stamp TEXT DEFAULT (datetime('now')),
               n INTEGER DEFAULT 7, odd TEXT DEFAULT (hex(randomblob(4))));
             INSERT INTO notes (id) VALUES (3), (10);`);
    db.close();
    tgt = await createPgDatabase('sensei_dflt');
    run = await migrateDirect(`sqlite://${path}`, tgt.url);
  }, 60_000);

  afterAll(async () => {
    await tgt?.drop();
    dir.remove();
  });

  it('makes INTEGER PRIMARY KEY an identity and writes the current time as SQLite would', async () => {
    expect(countsBalance(run.outcomes)).toBe(true);
    expect(await identities(tgt.url)).toEqual([{ t: 'notes', c: 'id', g: 'BY DEFAULT' }]);
    const [row] = await pgQuery<{ id: number; created: string; stamp: string; n: number; odd: string | null }>(
      tgt.url,
      'INSERT INTO notes DEFAULT VALUES RETURNING id::int AS id, created, stamp, n::int AS n, odd',
    );
    expect(row).toMatchObject({ id: 11, n: 7, odd: null });
    expect(row!.created).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(row!.stamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(run.plan.warnings.filter((w) => w.startsWith('default of'))).toEqual([`default of notes.odd (hex(randomblob(4))) ${WHY}`]);
  });
});
