// The SQLite source against real database files in a temp dir: the shared contract plus SQLite's own behaviour.
import { existsSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableDef } from '../../core/catalog.js';
import { ConnectionError, isConfigError, isConnectionError } from '../../core/errors.js';
import type { SourceConnector } from '../../connectors/connector.js';
import { openSource } from '../../connectors/open-source.js';
import { SqliteSource } from '../../connectors/sqlite/sqlite-source.js';
import { sqliteLogicalType } from '../../connectors/sqlite/sqlite-types.js';
import { tempDir } from '../fixtures/databases.js';
import { SOURCE_FIXTURE, batchRows, collectBatches, runSourceContract, type FixtureValue } from './source-contract.js';

const FIXTURE_DDL = `
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  email VARCHAR(200) UNIQUE,
  balance DECIMAL(12,2) NOT NULL,
  birth_date DATE,
  created_at DATETIME NOT NULL,
  is_active BOOLEAN NOT NULL
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  order_no VARCHAR(20) NOT NULL,
  ordered_on DATE NOT NULL,
  total DECIMAL(12,2),
  UNIQUE (customer_id, order_no)
);
CREATE TABLE order_items (
  order_id INTEGER NOT NULL REFERENCES orders(id),
  line_no INTEGER NOT NULL,
  product TEXT NOT NULL,
  quantity INTEGER NOT NULL,
  unit_price DECIMAL(10,2) NOT NULL,
  PRIMARY KEY (order_id, line_no)
);
CREATE TABLE notes (body TEXT NOT NULL, author VARCHAR(50));
CREATE TABLE empty_table (id INTEGER PRIMARY KEY, label VARCHAR(20));
CREATE TABLE big_values (id INTEGER PRIMARY KEY, big_number BIGINT NOT NULL, payload BLOB);
`;

/** better-sqlite3 binds neither booleans nor exact big integers from strings: convert the fixture's JS values. */
function bindable(column: string, v: FixtureValue): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (column === 'big_number' && typeof v === 'string') return BigInt(v);
  return v;
}

function loadFixture(path: string): void {
  const db = new Database(path);
  try {
    db.exec(FIXTURE_DDL);
    for (const t of SOURCE_FIXTURE) {
      const ins = db.prepare(
        `INSERT INTO "${t.name}" (${t.columns.map((c) => `"${c}"`).join(', ')}) VALUES (${t.columns.map(() => '?').join(', ')})`,
      );
      for (const row of t.rows) ins.run(...row.map((v, i) => bindable(t.columns[i]!, v)));
    }
  } finally {
    db.close();
  }
}

const sqliteUrl = (path: string) => pathToFileURL(path).toString().replace(/^file:/, 'sqlite:');

runSourceContract('sqlite', async () => {
  const dir = tempDir('sensei-sqlite-contract-');
  const file = join(dir.path, 'contract.db');
  loadFixture(file);
  return {
    open: () => openSource(sqliteUrl(file)),
    async teardown() {
      dir.remove();
    },
  };
});

describe('SqliteSource specifics', () => {
  const dir = tempDir('sensei-sqlite-specific-');
  const file = join(dir.path, 'specific.db');
  let src: SourceConnector;
  const table = async (name: string): Promise<TableDef> => {
    const t = (await src.catalog()).tables.find((x) => x.name === name);
    if (!t) throw new Error(`no table ${name}`);
    return t;
  };

  beforeAll(async () => {
    const db = new Database(file);
    db.exec(`
      CREATE TABLE dyn (id INTEGER PRIMARY KEY, anything, declared_int INTEGER, flag BOOLEAN, price NUMERIC(8,3));
      CREATE TABLE heap (v TEXT);
      CREATE TABLE gen (id INTEGER PRIMARY KEY, a INT NOT NULL, twice INT GENERATED ALWAYS AS (a * 2) VIRTUAL,
                        thrice INT AS (a * 3) STORED, tail TEXT);
      CREATE TABLE "we""ird" ("col ""q""" TEXT PRIMARY KEY, "select" INT) WITHOUT ROWID;
      CREATE TABLE parent (a INT, b TEXT, PRIMARY KEY (b, a));
      CREATE TABLE child (x INT, y TEXT, FOREIGN KEY (y, x) REFERENCES parent);
      CREATE UNIQUE INDEX child_x_expr ON child (x + 1);
      CREATE UNIQUE INDEX child_xy ON child (y, x);
      CREATE TABLE bigkeys (k INTEGER PRIMARY KEY, note TEXT);
      CREATE TABLE rowid_named ("rowid" TEXT, payload TEXT);
      CREATE VIEW a_view AS SELECT * FROM heap;
    `);
    const dyn = db.prepare('INSERT INTO dyn VALUES (?, ?, ?, ?, ?)');
    dyn.run(1, 42, 7, 1, 1.5);
    dyn.run(2, 'two', 'not a number', 0, '12');
    dyn.run(3, 3.25, 9223372036854775807n, 2, 'n/a');
    dyn.run(4, Buffer.from([1, 2]), null, null, 1e21);
    dyn.run(5, 9007199254740993n, -9007199254740993n, 1, -0.001);
    const heap = db.prepare('INSERT INTO heap VALUES (?)');
    for (const v of ['zulu', 'alpha', 'mike', 'bravo', 'yankee']) heap.run(v);
    db.prepare(`DELETE FROM heap WHERE v = 'mike'`).run();
    heap.run('charlie');
    db.prepare('INSERT INTO gen (id, a, tail) VALUES (?, ?, ?)').run(1, 10, 'x');
    db.prepare(`INSERT INTO "we""ird" VALUES (?, ?)`).run(`it's "x"`, 1);
    db.prepare(`INSERT INTO "we""ird" VALUES (?, ?)`).run('a', 2);
    const big = db.prepare('INSERT INTO bigkeys VALUES (?, ?)');
    for (const k of [9007199254740994n, 9007199254740992n, 9007199254740993n, -5n]) big.run(k, `k${k}`);
    const rn = db.prepare('INSERT INTO rowid_named VALUES (?, ?)');
    for (const [a, b] of [['3', 'c'], ['1', 'a'], ['2', 'b']]) rn.run(a, b);
    db.close();
    src = await openSource(sqliteUrl(file));
  });

  afterAll(async () => {
    await src?.close();
    dir.remove();
  });

  it('declares keyset pagination and a stable row order', () => {
    expect(src.capabilities).toEqual({ supportsKeysetPagination: true, hasStableRowOrder: true });
    expect(src.dialect).toBe('sqlite');
    expect(src.database).toBe('specific.db');
  });

  it('maps declared types by affinity', () => {
    expect(sqliteLogicalType('INTEGER')).toEqual({ kind: 'int64' });
    expect(sqliteLogicalType('tinyint(1)')).toEqual({ kind: 'int64' });
    expect(sqliteLogicalType('VARCHAR(40)')).toEqual({ kind: 'varchar', length: 40 });
    expect(sqliteLogicalType('NVARCHAR')).toEqual({ kind: 'text' });
    expect(sqliteLogicalType('CLOB')).toEqual({ kind: 'text' });
    expect(sqliteLogicalType('BLOB')).toEqual({ kind: 'bytes' });
    expect(sqliteLogicalType('')).toEqual({ kind: 'unknown' });
    expect(sqliteLogicalType('DOUBLE PRECISION')).toEqual({ kind: 'float64' });
    expect(sqliteLogicalType('FLOAT')).toEqual({ kind: 'float64' });
    expect(sqliteLogicalType('decimal(10, 2)')).toEqual({ kind: 'decimal', precision: 10, scale: 2 });
    expect(sqliteLogicalType('NUMERIC')).toEqual({ kind: 'decimal' });
    expect(sqliteLogicalType('boolean')).toEqual({ kind: 'boolean' });
    expect(sqliteLogicalType('DATE')).toEqual({ kind: 'date' });
    expect(sqliteLogicalType('DATETIME')).toEqual({ kind: 'timestamp' });
    expect(sqliteLogicalType('TIMESTAMP')).toEqual({ kind: 'timestamp' });
    expect(sqliteLogicalType('MONEY')).toEqual({ kind: 'unknown' });
  });

  it('reads a dynamically typed column as stored and converts declared affinities canonically', async () => {
    const t = await table('dyn');
    expect(t.columns.map((c) => c.logicalType.kind)).toEqual(['int64', 'bytes', 'int64', 'boolean', 'decimal']);
    // Mixed and disagreeing columns are reported, never silently coerced.
    expect(t.columns.map((c) => (c.notes ?? []).join(' '))).toEqual([
      '',
      'declared without a type, holds integer ×1, real ×2, text ×1, blob ×1 (mixed storage classes): migrated as bytes, the type the data says',
      'declared INTEGER, holds integer ×3, text ×1 (mixed storage classes): values that are not int64 go to the error queue',
      '',
      'declared NUMERIC(8,3), holds integer ×1, real ×3, text ×1 (mixed storage classes): values that are not decimal go to the error queue',
    ]);
    const rows = batchRows(await collectBatches(src, t));
    expect(rows.map((r) => r[1])).toEqual([42, 'two', 3.25, Buffer.from([1, 2]), '9007199254740993']);
    // An INTEGER column: integers canonical (string), text that SQLite could not convert as stored.
    expect(rows.map((r) => r[2])).toEqual(['7', 'not a number', '9223372036854775807', null, '-9007199254740993']);
    // A BOOLEAN column: 0/1 as booleans, anything else as stored.
    expect(rows.map((r) => r[3])).toEqual([true, false, 2, null, true]);
    // NUMERIC(8,3): reals and integers as exact decimal text at the declared scale, text as stored.
    expect(rows.map((r) => r[4])).toEqual(['1.500', '12.000', 'n/a', '1000000000000000000000.000', '-0.001']);
    expect(rows.map((r) => r[0])).toEqual(['1', '2', '3', '4', '5']);
  });

  it('reads a table without a primary key in rowid order, not value order, and resumes by offset', async () => {
    const t = await table('heap');
    expect(t.primaryKey).toEqual([]);
    const batches = await collectBatches(src, t, { batchSize: 2 });
    expect(batches.map((b) => b.rowCount)).toEqual([2, 2, 1]);
    expect(batches.map((b) => b.offset)).toEqual([0, 2, 4]);
    expect(batches.map((b) => b.lastKey)).toEqual([null, null, null]);
    expect(batchRows(batches).map((r) => r[0])).toEqual(['zulu', 'alpha', 'bravo', 'yankee', 'charlie']);
    const rest = await collectBatches(src, t, { batchSize: 2, offset: 3 });
    expect(rest.map((b) => b.offset)).toEqual([3]);
    expect(batchRows(rest).map((r) => r[0])).toEqual(['yankee', 'charlie']);
  });

  it('pages a keyless table whose column is named rowid by another rowid alias', async () => {
    const t = await table('rowid_named');
    const rows = batchRows(await collectBatches(src, t, { batchSize: 1 }));
    expect(rows).toEqual([['3', 'c'], ['1', 'a'], ['2', 'b']]);
  });

  it('flags generated columns and does not read them', async () => {
    const t = await table('gen');
    expect(t.columns.map((c) => [c.name, c.isGenerated])).toEqual([
      ['id', false],
      ['a', false],
      ['twice', true],
      ['thrice', true],
      ['tail', false],
    ]);
    const [b] = await collectBatches(src, t);
    expect(b!.columns.map((c) => c.name)).toEqual(['id', 'a', 'tail']);
    expect(batchRows([b!])).toEqual([['1', '10', 'x']]);
  });

  it('quotes identifiers with embedded quotes and reads WITHOUT ROWID tables by key', async () => {
    const t = await table('we"ird');
    expect(t.columns.map((c) => c.name)).toEqual(['col "q"', 'select']);
    expect(t.primaryKey).toEqual(['col "q"']);
    expect(t.columns[0]!.nullable).toBe(false);
    const batches = await collectBatches(src, t, { batchSize: 1 });
    expect(batchRows(batches)).toEqual([['a', '2'], [`it's "x"`, '1']]);
    expect(batches[0]!.lastKey).toEqual(['a']);
    expect(await src.countRows(t)).toBe(2);
  });

  it('resolves a foreign key without columns to the parent key, and reports only column unique indexes', async () => {
    const child = await table('child');
    expect(child.foreignKeys).toEqual([
      { name: 'child_y_x_fkey', columns: ['y', 'x'], refTable: 'parent', refColumns: ['b', 'a'] },
    ]);
    expect(child.uniques).toEqual([{ name: 'child_xy', columns: ['y', 'x'] }]);
    expect((await table('parent')).primaryKey).toEqual(['b', 'a']);
    // Key columns of a rowid table that are not the rowid accept NULL in SQLite, so they are reported nullable.
    expect((await table('parent')).columns.map((c) => c.nullable)).toEqual([true, true]);
  });

  it('lists tables only: no views, no sqlite_ internals', async () => {
    const names = (await src.catalog()).tables.map((t) => t.name);
    expect(names).toEqual(['bigkeys', 'child', 'dyn', 'gen', 'heap', 'parent', 'rowid_named', 'we"ird']);
    expect((await src.catalog()).tables.every((t) => t.schema === 'main')).toBe(true);
  });

  it('pages exactly across 64-bit keys beyond 2^53', async () => {
    const t = await table('bigkeys');
    const batches = await collectBatches(src, t, { batchSize: 1 });
    expect(batches.map((b) => b.lastKey)).toEqual([['-5'], ['9007199254740992'], ['9007199254740993'], ['9007199254740994']]);
    // With afterKey, offset numbers the batches but skips nothing.
    const rest = await collectBatches(src, t, { afterKey: ['9007199254740993'], offset: 3 });
    expect(batchRows(rest)).toEqual([['9007199254740994', 'k9007199254740994']]);
    expect(rest.map((b) => b.offset)).toEqual([3]);
  });

  it('rejects an afterKey of the wrong length and on a keyless table', async () => {
    await expect(collectBatches(src, await table('bigkeys'), { afterKey: ['1', '2'] })).rejects.toSatisfy(isConfigError);
    await expect(collectBatches(src, await table('heap'), { afterKey: ['1'] })).rejects.toSatisfy(isConfigError);
    await expect(collectBatches(src, await table('heap'), { batchSize: 0 })).rejects.toSatisfy(isConfigError);
  });

  it('never writes: the file is opened read-only', async () => {
    const db = (src as unknown as { db: Database.Database }).db;
    expect(db.readonly).toBe(true);
    expect(() => db.exec('CREATE TABLE sneaky (x)')).toThrow(/readonly/i);
  });
});

describe('SqliteSource opening', () => {
  const dir = tempDir('sensei-sqlite-open-');
  afterAll(() => dir.remove());

  it('refuses a missing file with a ConnectionError naming the path, creating nothing', async () => {
    const missing = join(dir.path, 'nope', 'missing.db');
    const err = await openSource(sqliteUrl(missing)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toContain(missing);
    expect((err as ConnectionError).hint).toBeTruthy();
    expect(existsSync(missing)).toBe(false);
  });

  it('refuses a file that is not a SQLite database', async () => {
    const junk = join(dir.path, 'junk.db');
    writeFileSync(junk, 'this is not a database file, just some text that is long enough to have a header'.repeat(20));
    const err = await openSource(sqliteUrl(junk)).catch((e: unknown) => e);
    expect(isConnectionError(err)).toBe(true);
    expect((err as Error).message).toMatch(/not a SQLite database/);
    expect((err as Error).message).toContain(junk);
  });

  it('refuses a directory', async () => {
    await expect(openSource(sqliteUrl(dir.path))).rejects.toSatisfy(isConnectionError);
  });

  it('opens sqlite:relative/path against the working directory, and paths with spaces', async () => {
    const file = join(dir.path, 'with space #1.db');
    const db = new Database(file);
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    db.close();
    const rel = await openSource(`sqlite:${relative(process.cwd(), file)}`);
    try {
      expect(rel).toBeInstanceOf(SqliteSource);
      expect(rel.database).toBe('with space #1.db');
      expect((await rel.catalog()).tables.map((t) => t.name)).toEqual(['t']);
    } finally {
      await rel.close();
    }
    const abs = await openSource(sqliteUrl(file));
    expect((abs as SqliteSource).path).toBe(file);
    await abs.close();
  });

  it('refuses reads before connect and after close', async () => {
    const file = join(dir.path, 'closed.db');
    new Database(file).close();
    const s = new SqliteSource(sqliteUrl(file));
    await expect(s.catalog()).rejects.toSatisfy(isConnectionError);
    await s.connect();
    await s.close();
    await expect(s.catalog()).rejects.toSatisfy(isConnectionError);
  });
});
