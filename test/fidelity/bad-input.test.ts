// Bad input: zero dates, invalid UTF-8, NUL bytes and overflowing values. The run completes, every bad value is in
// the error queue with table, key, column and reason, and rows_read = rows_written + rows_errored for every table.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invalidDateReason } from '../../connectors/source-options.js';
import { invalidUtf8Offset } from '../../connectors/text-encoding.js';
import { openSource } from '../../connectors/open-source.js';
import { createMysqlDatabase, createPgDatabase, mysqlExec, pgExec, pgQuery, tempDir, type TempDatabase } from '../fixtures/databases.js';
import { countsBalance, migrateDirect } from '../fixtures/direct-migration.js';

async function mysqlRows(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const c = await mysql.createConnection({ uri: url, charset: 'utf8mb4' });
  try {
    return (await c.query(sql))[0] as Record<string, unknown>[];
  } finally {
    await c.end();
  }
}

const summary = (errors: { table: string; key: Record<string, unknown>; column: string | null; rule: string }[]) =>
  errors.map((e) => ({ table: e.table, key: e.key, column: e.column, rule: e.rule })).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('date and byte checks', () => {
  it('names zero dates, zero-in-date, year 0 and impossible dates, and keeps 0009-12-04 a date', () => {
    expect(invalidDateReason('0000-00-00')).toBe('the zero date 0000-00-00');
    expect(invalidDateReason('0000-00-00 00:00:00')).toBe('the zero date 0000-00-00');
    expect(invalidDateReason('2020-00-15')).toBe('a zero-in-date value (month or day 00)');
    expect(invalidDateReason('2020-04-00 10:00:00')).toBe('a zero-in-date value (month or day 00)');
    expect(invalidDateReason('0000-01-01')).toBe('a date in year 0000');
    expect(invalidDateReason('2021-02-29')).toBe('an impossible date (day or month out of range)');
    expect(invalidDateReason('0009-12-04')).toBeNull();
    expect(invalidDateReason('2024-02-29 23:59:59.999999')).toBeNull();
    expect(invalidDateReason('not a date')).toBeNull(); // left to the date_format rule
  });

  it('finds the offset of the first invalid UTF-8 byte', () => {
    expect(invalidUtf8Offset(Buffer.from('héllo 😀', 'utf8'))).toBe(-1);
    expect(invalidUtf8Offset(Buffer.from([0x41, 0xc3, 0x28]))).toBe(1);
    expect(invalidUtf8Offset(Buffer.from([0x41, 0x42, 0xff]))).toBe(2);
    expect(invalidUtf8Offset(Buffer.from([0xe2, 0x82]))).toBe(0); // truncated sequence
    expect(invalidUtf8Offset(Buffer.from([0xc0, 0xaf]))).toBe(0); // overlong
    expect(invalidUtf8Offset(Buffer.from([0x61, 0xed, 0xa0, 0x80]))).toBe(1); // surrogate
  });
});

describe('MariaDB zero dates', () => {
  let src: TempDatabase;
  const targets: TempDatabase[] = [];

  beforeAll(async () => {
    src = await createMysqlDatabase('sensei_bad');
    await mysqlExec(
      src.url,
      `SET SESSION sql_mode = '';
       CREATE TABLE events (id INT PRIMARY KEY, d DATE, dt DATETIME, ts TIMESTAMP NULL, note VARCHAR(10));
       INSERT INTO events VALUES (1, '0000-00-00', '2020-01-01 00:00:00', NULL, 'zero'),
         (2, '2020-00-15', '2020-01-01 00:00:00', NULL, 'zero-in'),
         (3, '0009-12-04', '0000-00-00 00:00:00', '0000-00-00 00:00:00', 'dt zero'),
         (4, '0009-12-04', '1999-12-31 23:59:59', '2000-01-01 00:00:00', 'good'),
         (5, NULL, NULL, NULL, 'nulls');`,
    );
  }, 60_000);

  afterAll(async () => {
    await src?.drop();
    for (const t of targets) await t.drop();
  });

  it('by default keeps each row with a zero date out of the target and queues it with rule zero_date', async () => {
    const tgt = await createPgDatabase('sensei_bad');
    targets.push(tgt);
    const run = await migrateDirect(src.url, tgt.url);
    expect(run.outcomes).toMatchObject([{ source: 'events', rows_read: 5, rows_written: 2, rows_errored: 3 }]);
    expect(countsBalance(run.outcomes)).toBe(true);
    expect(summary(run.errors)).toEqual([
      { table: 'events', key: { id: '1' }, column: 'd', rule: 'zero_date' },
      { table: 'events', key: { id: '2' }, column: 'd', rule: 'zero_date' },
      { table: 'events', key: { id: '3' }, column: 'dt', rule: 'zero_date' },
    ]);
    expect(run.errors.find((e) => e.key.id === '2')!.reason).toBe(
      'events.d holds a zero-in-date value (month or day 00), which PostgreSQL cannot store; fix the source value, or set zero_dates: null in the configuration to load it as NULL',
    );
    // The queued row keeps the value as read: nothing is lost.
    expect(run.errors.find((e) => e.key.id === '1')!.row.d).toBe('0000-00-00');
    // 0009-12-04 is a real date and stays one (pgloader turned it into NULL).
    expect(await pgQuery(tgt.url, "SELECT id, to_char(d, 'YYYY-MM-DD') AS d FROM events ORDER BY id")).toEqual([
      { id: 4, d: '0009-12-04' },
      { id: 5, d: null },
    ]);
  }, 60_000);

  it('loads zero dates as NULL only when zero_dates: null was chosen', async () => {
    const tgt = await createPgDatabase('sensei_bad');
    targets.push(tgt);
    const run = await migrateDirect(src.url, tgt.url, { zeroDates: 'null' });
    expect(run.errors).toEqual([]);
    expect(run.outcomes).toMatchObject([{ rows_read: 5, rows_written: 5, rows_errored: 0 }]);
    expect(await pgQuery(tgt.url, 'SELECT id, d IS NULL AS d_null, dt IS NULL AS dt_null, ts IS NULL AS ts_null FROM events WHERE id <= 3 ORDER BY id')).toEqual([
      { id: 1, d_null: true, dt_null: false, ts_null: true },
      { id: 2, d_null: true, dt_null: false, ts_null: true },
      { id: 3, d_null: false, dt_null: true, ts_null: true },
    ]);
  }, 60_000);
});

describe('MariaDB text with double-encoded UTF-8', () => {
  let src: TempDatabase;
  const targets: TempDatabase[] = [];

  beforeAll(async () => {
    src = await createMysqlDatabase('sensei_dbl');
    // How it happens: a client sends UTF-8 bytes on a connection declared latin1, the server stores what it was told.
    await mysqlExec(
      src.url,
      `SET NAMES utf8mb4;
       CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(40) NULL, note TEXT CHARACTER SET latin1 NULL, code VARCHAR(8) NULL) DEFAULT CHARSET utf8mb4;
       SET NAMES latin1;
       INSERT INTO people VALUES (1, 'été à Paris', 'Ångström', 'A1'), (2, '😀 naïve – “x”', NULL, 'A2');
       SET NAMES utf8mb4;
       INSERT INTO people VALUES (3, 'café', 'ok', 'A3'), (4, 'Ã© 日本', 'fine', 'A4'), (5, NULL, 'Ã© “x”', 'A5'), (6, 'plain', 'Ã©', 'Ã©');`,
    );
  }, 60_000);

  afterAll(async () => {
    await src?.drop();
    for (const t of targets) await t.drop();
  });

  const targetRows = (url: string) => pgQuery(url, 'SELECT id, name, note, code FROM people ORDER BY id');

  it('by default reports per column how many values look double-encoded and loads every value unchanged', async () => {
    const tgt = await createPgDatabase('sensei_dbl');
    targets.push(tgt);
    const run = await migrateDirect(src.url, tgt.url);
    expect(run.errors).toEqual([]);
    expect(run.outcomes).toMatchObject([{ source: 'people', rows_read: 6, rows_written: 6, rows_errored: 0 }]);
    const notes = run.plan.warnings.filter((w) => w.includes('double-encoded'));
    expect(notes).toEqual([
      'source column people.name: 2 value(s) look double-encoded (UTF-8 stored through a latin1 connection, e.g. "Ã©" for "é"); 1 more have that mark but are not cp1252-encoded UTF-8: loaded unchanged; set double_encoding: repair (or list "people.name") in the configuration to repair them',
      'source column people.note: 2 value(s) look double-encoded (UTF-8 stored through a latin1 connection, e.g. "Ã©" for "é"); 1 more have that mark but are not cp1252-encoded UTF-8: loaded unchanged; set double_encoding: repair (or list "people.note") in the configuration to repair them',
      'source column people.code: 1 value(s) look double-encoded (UTF-8 stored through a latin1 connection, e.g. "Ã©" for "é"): loaded unchanged; set double_encoding: repair (or list "people.code") in the configuration to repair them',
    ]);
    // Unchanged: the target holds exactly what MariaDB holds, compared in SQL on both sides.
    const source = await mysqlRows(src.url, 'SELECT id, name, note, code FROM people ORDER BY id');
    expect(await targetRows(tgt.url)).toEqual(source);
    expect(source[0]!.name).toBe('Ã©tÃ© Ã\u00a0 Paris'); // à is C3 A0: Ã and a no-break space
  }, 60_000);

  it('repairs only the configured columns, lists each repair, and queues values that do not round-trip', async () => {
    const tgt = await createPgDatabase('sensei_dbl');
    targets.push(tgt);
    const run = await migrateDirect(src.url, tgt.url, { doubleEncoding: ['people.name', 'people.note'] });
    expect(countsBalance(run.outcomes)).toBe(true);
    expect(run.outcomes).toMatchObject([{ source: 'people', rows_read: 6, rows_written: 4, rows_errored: 2 }]);
    expect(summary(run.errors)).toEqual([
      { table: 'people', key: { id: '4' }, column: 'name', rule: 'double_encoding' },
      { table: 'people', key: { id: '5' }, column: 'note', rule: 'double_encoding' },
    ]);
    expect(run.errors[0]!.reason).toBe(
      'people.name looks double-encoded at character 0 but is not cp1252-encoded UTF-8, so it cannot be repaired without guessing; fix the value at the source, or leave the column out of double_encoding to load it unchanged',
    );
    // The queued row keeps the value as read.
    expect(run.errors.find((e) => e.key.id === '4')!.row.name).toBe('Ã© 日本');
    expect(await targetRows(tgt.url)).toEqual([
      { id: 1, name: 'été à Paris', note: 'Ångström', code: 'A1' },
      { id: 2, name: '😀 naïve – “x”', note: null, code: 'A2' },
      { id: 3, name: 'café', note: 'ok', code: 'A3' },
      // code is not configured: its look-alike stays as it was.
      { id: 6, name: 'plain', note: 'é', code: 'Ã©' },
    ]);
    // The repair is what MariaDB itself gives when it reads the bytes back as UTF-8.
    const fixedBySql = await mysqlRows(
      src.url,
      'SELECT id, CONVERT(CAST(CONVERT(name USING latin1) AS BINARY) USING utf8mb4) AS name FROM people WHERE id IN (1, 2) ORDER BY id',
    );
    expect(fixedBySql).toEqual([
      { id: 1, name: 'été à Paris' },
      { id: 2, name: '😀 naïve – “x”' },
    ]);
    expect(run.plan.warnings).toContain(
      'source column people.name: 2 value(s) look double-encoded (UTF-8 stored through a latin1 connection, e.g. "Ã©" for "é"): each is repaired on load and listed as a repair; 1 more have that mark but are not cp1252-encoded UTF-8: those go to the error queue (rule double_encoding)',
    );
  }, 60_000);

  it('lists every repaired value in its batch by row and column', async () => {
    const source = await openSource(src.url, { doubleEncoding: 'repair' });
    try {
      const table = (await source.catalog()).tables.find((t) => t.name === 'people')!;
      const repairs: { id: unknown; column: string; rule: string }[] = [];
      for await (const b of source.readBatches(table, { batchSize: 4 })) {
        for (const x of b.repairs ?? []) repairs.push({ id: b.values[0]![x.row], column: x.column, rule: x.rule });
      }
      expect(repairs).toEqual([
        { id: 1, column: 'name', rule: 'double_encoding_repaired' },
        { id: 1, column: 'note', rule: 'double_encoding_repaired' },
        { id: 2, column: 'name', rule: 'double_encoding_repaired' },
        { id: 6, column: 'note', rule: 'double_encoding_repaired' },
        { id: 6, column: 'code', rule: 'double_encoding_repaired' },
      ]);
    } finally {
      await source.close();
    }
  }, 60_000);
});

describe('PostgreSQL SQL_ASCII database (text bytes unchecked by the server)', () => {
  let src: TempDatabase;
  const targets: TempDatabase[] = [];

  beforeAll(async () => {
    src = await createPgDatabase('sensei_ascii', "ENCODING 'SQL_ASCII' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'");
    await pgExec(
      src.url,
      `CREATE TABLE words (id int PRIMARY KEY, w text, c char(4), v varchar(10), j json);
       INSERT INTO words VALUES (1, 'été', 'ok', 'fine', '{"a": 1}'),
         (2, E'A\\xc3(B', 'ok', 'fine', NULL),
         (3, 'x', E'\\xff', 'fine', NULL),
         (4, 'x', 'ok', 'fine', E'{"a": "\\xe9"}'),
         (5, NULL, NULL, NULL, NULL);
       CREATE TABLE tags (k text PRIMARY KEY, n int);
       INSERT INTO tags VALUES ('a', 1), (E'b\\xff', 2), ('c', 3), (E'd\\x81', 4);`,
    );
  }, 60_000);

  afterAll(async () => {
    await src?.drop();
    for (const t of targets) await t.drop();
  });

  it('reads text as bytes, checks it as UTF-8, and queues invalid values with the byte offset and the raw bytes', async () => {
    const tgt = await createPgDatabase('sensei_ascii_t');
    targets.push(tgt);
    // Batches of one row: keyset pagination must step over a key whose bytes are not UTF-8.
    const run = await migrateDirect(src.url, tgt.url, { batchSize: 1 });
    expect(countsBalance(run.outcomes)).toBe(true);
    expect(Object.fromEntries(run.outcomes.map((o) => [o.source, [o.rows_read, o.rows_written, o.rows_errored]]))).toEqual({
      tags: [4, 2, 2],
      words: [5, 2, 3],
    });
    expect(summary(run.errors)).toEqual([
      { table: 'tags', key: { k: '\\x62ff' }, column: 'k', rule: 'invalid_encoding' },
      { table: 'tags', key: { k: '\\x6481' }, column: 'k', rule: 'invalid_encoding' },
      { table: 'words', key: { id: '2' }, column: 'w', rule: 'invalid_encoding' },
      { table: 'words', key: { id: '3' }, column: 'c', rule: 'invalid_encoding' },
      { table: 'words', key: { id: '4' }, column: 'j', rule: 'invalid_encoding' },
    ]);
    const reasons = Object.fromEntries(run.errors.filter((e) => e.table === 'words').map((e) => [e.key.id, e.reason]));
    expect(reasons['2']).toBe(
      'words.w is not valid UTF-8 (first invalid byte at offset 1); Sensei never replaces bytes silently: fix the value at the source or map the column to bytea',
    );
    expect(reasons['3']).toContain('offset 0');
    expect(reasons['4']).toContain('offset 7');
    // Raw bytes kept (char(4) with its padding), never a replacement character.
    expect(run.errors.find((e) => e.key.id === '3')!.row.c).toBe('\\xff202020');
    expect(JSON.stringify(run.errors)).not.toContain('\uFFFD');
    expect(await pgQuery(tgt.url, 'SELECT id, w, c, v, j::text AS j FROM words ORDER BY id')).toEqual([
      { id: 1, w: 'été', c: 'ok  ', v: 'fine', j: '{"a": 1}' },
      { id: 5, w: null, c: null, v: null, j: null },
    ]);
    expect(await pgQuery(tgt.url, 'SELECT k, n FROM tags ORDER BY n')).toEqual([
      { k: 'a', n: 1 },
      { k: 'c', n: 3 },
    ]);
  }, 60_000);

  it('decodes a declared encoding instead (?encoding=WIN1252) and still queues bytes it does not define', async () => {
    const tgt = await createPgDatabase('sensei_ascii_t');
    targets.push(tgt);
    const run = await migrateDirect(`${src.url}?encoding=WIN1252`, tgt.url, { batchSize: 1 });
    expect(countsBalance(run.outcomes)).toBe(true);
    // 0x81 is undefined in Windows-1252.
    expect(summary(run.errors)).toEqual([{ table: 'tags', key: { k: '\\x6481' }, column: 'k', rule: 'invalid_encoding' }]);
    expect(run.errors[0]!.reason).toContain('is not valid cp1252 (first invalid byte at offset 1)');
    expect(await pgQuery(tgt.url, 'SELECT id, w, c, j::text AS j FROM words WHERE id <= 4 ORDER BY id')).toEqual([
      { id: 1, w: 'Ã©tÃ©', c: 'ok  ', j: '{"a": 1}' },
      { id: 2, w: 'AÃ(B', c: 'ok  ', j: null },
      { id: 3, w: 'x', c: 'ÿ   ', j: null },
      { id: 4, w: 'x', c: 'ok  ', j: '{"a": "é"}' },
    ]);
    expect(await pgQuery(tgt.url, 'SELECT k FROM tags ORDER BY n')).toEqual([{ k: 'a' }, { k: 'bÿ' }, { k: 'c' }]);
  }, 60_000);

  it('refuses an encoding it cannot check, naming it', async () => {
    await expect(openSource(`${src.url}?encoding=KOI8R`)).rejects.toThrow(/\?encoding=KOI8R .* is not an encoding Sensei can check/);
  });
});

describe('SQLite with invalid UTF-8, NUL bytes, overflows and zero dates', () => {
  const dir = tempDir('sensei-bad-');
  let tgt: TempDatabase;
  let run: Awaited<ReturnType<typeof migrateDirect>>;

  beforeAll(async () => {
    const path = join(dir.path, 'bad.db');
    const db = new Database(path);
    db.exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price NUMERIC(5,2), born DATE);
      INSERT INTO items VALUES (1, 'fine', 1, 1.5, '2020-01-01');
      INSERT INTO items VALUES (2, CAST(X'41C32842' AS TEXT), 2, 2, '2020-01-02');
      INSERT INTO items VALUES (3, 'nul' || char(0) || 'byte', 3, 3, '2020-01-03');
      INSERT INTO items VALUES (4, 'big', 99999999999999999999, 4, '2020-01-04');
      INSERT INTO items VALUES (5, 'pricey', 5, 123456.7, '2020-01-05');
      INSERT INTO items VALUES (6, 'zero', 6, 6, '0000-00-00');
      INSERT INTO items VALUES (7, 'real U+FFFD ' || char(65533), 7, 7, NULL);
      CREATE TABLE heap (v TEXT); INSERT INTO heap VALUES ('ok'), (CAST(X'FF' AS TEXT));`);
    db.close();
    tgt = await createPgDatabase('sensei_bad');
    run = await migrateDirect(`sqlite://${path}`, tgt.url);
  }, 60_000);

  afterAll(async () => {
    await tgt?.drop();
    dir.remove();
  });

  it('completes, queues every bad value with table, key, column and rule, and the counts balance', () => {
    expect(countsBalance(run.outcomes)).toBe(true);
    expect(Object.fromEntries(run.outcomes.map((o) => [o.source, [o.rows_read, o.rows_written, o.rows_errored]]))).toEqual({
      heap: [2, 1, 1],
      items: [7, 2, 5],
    });
    expect(summary(run.errors)).toEqual([
      { table: 'heap', key: { _row: 2 }, column: 'v', rule: 'invalid_encoding' },
      { table: 'items', key: { id: '2' }, column: 'name', rule: 'invalid_encoding' },
      { table: 'items', key: { id: '3' }, column: 'name', rule: 'nul_byte' },
      { table: 'items', key: { id: '4' }, column: 'qty', rule: 'integer_range' },
      { table: 'items', key: { id: '5' }, column: 'price', rule: 'numeric_range' },
      { table: 'items', key: { id: '6' }, column: 'born', rule: 'zero_date' },
    ]);
  });

  it('names the byte offset of invalid UTF-8 and keeps the raw bytes, never a replacement character', () => {
    const bad = run.errors.find((e) => e.rule === 'invalid_encoding' && e.table === 'items')!;
    expect(bad.reason).toContain('first invalid byte at offset 1');
    expect(bad.row.name).toBe('\\x41c32842');
    expect(JSON.stringify(run.errors)).not.toContain('\uFFFD');
  });

  it('writes the good rows, a genuine U+FFFD included', async () => {
    expect(await pgQuery(tgt.url, 'SELECT id::int AS id, name FROM items ORDER BY id')).toEqual([
      { id: 1, name: 'fine' },
      { id: 7, name: 'real U+FFFD \uFFFD' },
    ]);
  });
});
