// The source contract against a real PostgreSQL server, plus the PostgreSQL types and settings only it has.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Batch, IrValue } from '../../core/batch.js';
import type { Catalog, TableDef } from '../../core/catalog.js';
import { isConfigError, isConnectionError, isPlanError, type SenseiError } from '../../core/errors.js';
import { PostgresSource } from '../../connectors/postgres/postgres-source.js';
import { postgresLogicalType } from '../../connectors/postgres/postgres-types.js';
import { createPgDatabase, pgExec, pgQuery, type TempDatabase } from '../fixtures/databases.js';
import { SOURCE_FIXTURE, batchRows, collectBatches, runSourceContract } from './source-contract.js';

const FIXTURE_DDL = `
CREATE TABLE customers (
  id integer PRIMARY KEY,
  name varchar(100) NOT NULL,
  email varchar(200) NULL UNIQUE,
  balance decimal(12,2) NOT NULL,
  birth_date date NULL,
  created_at timestamp without time zone NOT NULL,
  is_active boolean NOT NULL
);
CREATE TABLE orders (
  id integer PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES customers(id),
  order_no varchar(20) NOT NULL,
  ordered_on date NOT NULL,
  total decimal(12,2) NULL,
  UNIQUE (customer_id, order_no)
);
CREATE TABLE order_items (
  order_id integer NOT NULL REFERENCES orders(id),
  line_no integer NOT NULL,
  product text NOT NULL,
  quantity integer NOT NULL,
  unit_price decimal(10,2) NOT NULL,
  PRIMARY KEY (order_id, line_no)
);
CREATE TABLE notes (body text NOT NULL, author varchar(50) NULL);
CREATE TABLE empty_table (id integer PRIMARY KEY, label varchar(20) NULL);
CREATE TABLE big_values (id integer PRIMARY KEY, big_number bigint NOT NULL, payload bytea NULL);
`;

async function openSource(url: string): Promise<PostgresSource> {
  const s = new PostgresSource(url);
  await s.connect();
  return s;
}

/** Insert rows with parameters, one statement per row, in the given order. */
async function insertRows(url: string, table: string, columns: string[], rows: readonly unknown[][]): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const cols = columns.map((n) => `"${n}"`).join(', ');
    const params = columns.map((_, i) => `$${i + 1}`).join(', ');
    for (const row of rows) await c.query(`INSERT INTO "${table}" (${cols}) VALUES (${params})`, row as unknown[]);
  } finally {
    await c.end();
  }
}

runSourceContract('PostgresSource', async () => {
  const db = await createPgDatabase('sensei_src');
  try {
    await pgExec(db.url, FIXTURE_DDL);
    for (const t of SOURCE_FIXTURE) await insertRows(db.url, t.name, t.columns, t.rows);
  } catch (e) {
    await db.drop();
    throw e;
  }
  return { open: () => openSource(db.url), teardown: () => db.drop() };
});

const byName = (catalog: Catalog, name: string): TableDef => {
  const t = catalog.tables.find((x) => x.name === name);
  if (!t) throw new Error(`catalog has no table ${name}`);
  return t;
};
const column = (batch: Batch, name: string): IrValue[] => batch.values[batch.columns.findIndex((c) => c.name === name)]!;

describe('PostgresSource: PostgreSQL types and settings', () => {
  let db: TempDatabase;
  let src: PostgresSource;
  let catalog: Catalog;

  beforeAll(async () => {
    db = await createPgDatabase('sensei_src');
    // Hostile database defaults: the connector's session settings must win over every one of them.
    await pgExec(
      db.url,
      `ALTER DATABASE "${db.name}" SET TimeZone = 'America/New_York';
       ALTER DATABASE "${db.name}" SET DateStyle = 'SQL, DMY';
       ALTER DATABASE "${db.name}" SET IntervalStyle = 'sql_standard';
       ALTER DATABASE "${db.name}" SET extra_float_digits = -10;
       ALTER DATABASE "${db.name}" SET bytea_output = 'escape';`,
    );
    await pgExec(
      db.url,
      `CREATE TABLE typed (
         id integer PRIMARY KEY,
         small smallint,
         big bigint,
         exact numeric(40,10),
         loose numeric,
         f4 real,
         f8 double precision,
         flag boolean,
         fixed char(4),
         bin bytea,
         uid uuid,
         doc jsonb,
         raw_doc json,
         ts timestamp(6),
         tstz timestamptz,
         d date,
         t time,
         span interval,
         tags integer[],
         qty integer NOT NULL DEFAULT 1,
         price numeric(10,2) NOT NULL DEFAULT 0,
         line_total numeric(12,2) GENERATED ALWAYS AS (qty * price) STORED
       );
       INSERT INTO typed VALUES
         (1, -32768, 9223372036854775807, 12345678901234567890.1234567890, 123456789012345678901234567890.5,
          'NaN', 'Infinity', true, 'ab', '\\x00ff80', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
          '{"b": 1, "a": [1, 2]}', '{"b": 1,  "a": [1, 2]}',
          '2024-02-29 23:59:59.123456', '2024-03-10 12:00:00+05:30', '2024-02-29', '13:45:00.5',
          '1 day 02:03:04', '{1,2,3}', 3, 2.50),
         (2, 32767, -9223372036854775808, -0.0000000001, 'NaN',
          '-Infinity', 0.1, false, NULL, '\\x', NULL,
          'null', '[]',
          '1970-01-01 00:00:00', '1999-12-31 23:59:59.5+00', '0001-01-01', '00:00:00',
          '-3 mons', '{}', 1, 0),
         (3, NULL, NULL, NULL, NULL, 3.14, 1e-300, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 2, 1.25);

       CREATE TABLE bigkeys (id bigint PRIMARY KEY, label text NOT NULL);
       INSERT INTO bigkeys VALUES (9007199254740993, 'c'), (9007199254740992, 'b'), (9007199254740994, 'd'),
                                  (-9223372036854775808, 'a'), (9223372036854775807, 'e');

       CREATE TABLE textkeys (region text, seq integer, note text, PRIMARY KEY (region, seq));
       INSERT INTO textkeys VALUES ('b', 2, 'x'), ('a', 10, 'y'), ('a', 2, 'z'), ('b', 1, 'w'), ('a''s', 1, 'q');

       CREATE TABLE keyless_json (doc json, n integer);
       INSERT INTO keyless_json VALUES ('{"z": 1}', 2), ('{"a": 1}', 1), ('[1]', 3);

       CREATE TABLE gen_key (base integer NOT NULL, k integer GENERATED ALWAYS AS (base * 10) STORED PRIMARY KEY, v text);
       INSERT INTO gen_key (base, v) VALUES (3, 'three'), (1, 'one'), (2, 'two');

       CREATE SCHEMA "Sales Dept";
       CREATE TABLE "Sales Dept"."Q""1" ("Id" integer PRIMARY KEY, "Amount" numeric(8,2));
       INSERT INTO "Sales Dept"."Q""1" VALUES (2, 20.00), (1, 10.50);
       CREATE TABLE "Sales Dept".detail ("Id" integer PRIMARY KEY, q_id integer REFERENCES "Sales Dept"."Q""1"("Id"));`,
    );
    src = await openSource(db.url);
    catalog = await src.catalog({ withCounts: true });
  });

  afterAll(async () => {
    try {
      await src?.close();
    } finally {
      await db?.drop();
    }
  });

  it('maps declared types to logical types, keeping parameters', () => {
    const typed = byName(catalog, 'typed');
    const kinds = Object.fromEntries(typed.columns.map((c) => [c.name, [c.declaredType, c.logicalType]]));
    expect(kinds).toEqual({
      id: ['integer', { kind: 'int32' }],
      small: ['smallint', { kind: 'int16' }],
      big: ['bigint', { kind: 'int64' }],
      exact: ['numeric(40,10)', { kind: 'decimal', precision: 40, scale: 10 }],
      loose: ['numeric', { kind: 'decimal' }],
      f4: ['real', { kind: 'float32' }],
      f8: ['double precision', { kind: 'float64' }],
      flag: ['boolean', { kind: 'boolean' }],
      fixed: ['character(4)', { kind: 'char', length: 4 }],
      bin: ['bytea', { kind: 'bytes' }],
      uid: ['uuid', { kind: 'uuid' }],
      doc: ['jsonb', { kind: 'json' }],
      raw_doc: ['json', { kind: 'json' }],
      ts: ['timestamp(6) without time zone', { kind: 'timestamp' }],
      tstz: ['timestamp with time zone', { kind: 'timestamptz' }],
      d: ['date', { kind: 'date' }],
      t: ['time without time zone', { kind: 'time' }],
      span: ['interval', { kind: 'interval' }],
      tags: ['integer[]', { kind: 'unknown' }],
      qty: ['integer', { kind: 'int32' }],
      price: ['numeric(10,2)', { kind: 'decimal', precision: 10, scale: 2 }],
      line_total: ['numeric(12,2)', { kind: 'decimal', precision: 12, scale: 2 }],
    });
    const qty = typed.columns.find((c) => c.name === 'qty')!;
    expect([qty.defaultValue, qty.nullable, qty.isGenerated]).toEqual(['1', false, false]);
    const total = typed.columns.find((c) => c.name === 'line_total')!;
    expect([total.defaultValue, total.isGenerated]).toEqual([null, true]);
    expect(byName(catalog, 'typed').rowCount).toBe(3);
  });

  it('reads every type in its canonical form, whatever the database defaults say', async () => {
    const [batch] = await collectBatches(src, byName(catalog, 'typed'));
    const rows = batchRows([batch!]);
    const names = batch!.columns.map((c) => c.name);
    const row = (i: number) => Object.fromEntries(names.map((n, c) => [n, rows[i]![c]]));
    expect(row(0)).toEqual({
      id: 1,
      small: -32768,
      big: '9223372036854775807',
      exact: '12345678901234567890.1234567890',
      loose: '123456789012345678901234567890.5',
      f4: NaN,
      f8: Infinity,
      flag: true,
      fixed: 'ab  ',
      bin: Buffer.from([0x00, 0xff, 0x80]),
      uid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      doc: '{"a": [1, 2], "b": 1}',
      raw_doc: '{"b": 1,  "a": [1, 2]}',
      ts: '2024-02-29 23:59:59.123456',
      tstz: '2024-03-10 06:30:00+00:00',
      d: '2024-02-29',
      t: '13:45:00.5',
      span: '1 day 02:03:04',
      tags: '{1,2,3}',
      qty: 3,
      price: '2.50',
    });
    expect(row(1)).toEqual({
      id: 2,
      small: 32767,
      big: '-9223372036854775808',
      exact: '-0.0000000001',
      loose: 'NaN',
      f4: -Infinity,
      f8: 0.1,
      flag: false,
      fixed: null,
      bin: Buffer.alloc(0),
      uid: null,
      doc: 'null',
      raw_doc: '[]',
      ts: '1970-01-01 00:00:00',
      tstz: '1999-12-31 23:59:59.5+00:00',
      d: '0001-01-01',
      t: '00:00:00',
      span: '-3 mons',
      tags: '{}',
      qty: 1,
      price: '0.00',
    });
    // Shortest exact float text (extra_float_digits 3, not the database's -10): 3.14 stays 3.14, 1e-300 keeps its digits.
    expect(row(2).f4).toBe(3.14);
    expect(row(2).f8).toBe(1e-300);
    expect(Buffer.isBuffer(row(0).bin)).toBe(true);
  });

  it('does not read generated columns', async () => {
    const [batch] = await collectBatches(src, byName(catalog, 'typed'));
    expect(batch!.columns.map((c) => c.name)).not.toContain('line_total');
    expect(batch!.values).toHaveLength(byName(catalog, 'typed').columns.length - 1);
  });

  it('paginates a generated primary key without handing it out as data', async () => {
    const t = byName(catalog, 'gen_key');
    expect(t.primaryKey).toEqual(['k']);
    const batches = await collectBatches(src, t, { batchSize: 2 });
    expect(batches.map((b) => b.columns.map((c) => c.name))).toEqual([['base', 'v'], ['base', 'v']]);
    expect(batchRows(batches)).toEqual([[1, 'one'], [2, 'two'], [3, 'three']]);
    expect(batches.map((b) => b.lastKey)).toEqual([[20], [30]]);
  });

  it('resumes after a 64-bit key beyond 2^53 exactly, and keys are digit strings', async () => {
    const t = byName(catalog, 'bigkeys');
    const all = await collectBatches(src, t, { batchSize: 2 });
    expect(batchRows(all)).toEqual([
      ['-9223372036854775808', 'a'],
      ['9007199254740992', 'b'],
      ['9007199254740993', 'c'],
      ['9007199254740994', 'd'],
      ['9223372036854775807', 'e'],
    ]);
    expect(all[0]!.lastKey).toEqual(['9007199254740992']);
    // As a JS number, 9007199254740993 would round to …992 and re-read row c.
    const rest = await collectBatches(src, t, { afterKey: ['9007199254740993'] });
    expect(batchRows(rest).map((r) => r[1])).toEqual(['d', 'e']);
    expect(rest[0]!.offset).toBe(0);
    const numbered = await collectBatches(src, t, { afterKey: ['9007199254740993'], offset: 3 });
    expect(numbered.map((b) => b.offset)).toEqual([3]);
  });

  it('resumes a text+integer composite key in the database collation order', async () => {
    const t = byName(catalog, 'textkeys');
    const all = batchRows(await collectBatches(src, t, { batchSize: 10 }));
    const order = (await pgQuery<{ region: string; seq: number; note: string }>(db.url, 'SELECT region, seq, note FROM textkeys ORDER BY region, seq')).map(
      (r) => [r.region, Number(r.seq), r.note],
    );
    expect(all).toEqual(order);
    const afterIdx = 1;
    const after = [all[afterIdx]![0]!, all[afterIdx]![1]!];
    const rest = batchRows(await collectBatches(src, t, { batchSize: 1, afterKey: after }));
    expect(rest).toEqual(order.slice(afterIdx + 1));
  });

  it('reads a keyless table with a json column (no ordering operator) in a stable order', async () => {
    const t = byName(catalog, 'keyless_json');
    expect(t.primaryKey).toEqual([]);
    const first = batchRows(await collectBatches(src, t, { batchSize: 2 }));
    expect(first.map((r) => r[1]).sort()).toEqual([1, 2, 3]);
    const tail = batchRows(await collectBatches(src, t, { batchSize: 2, offset: 1 }));
    expect(tail).toEqual(first.slice(1));
  });

  it('reads another schema with ?schema=, quoting odd identifiers', async () => {
    const url = new URL(db.url);
    url.searchParams.set('schema', 'Sales Dept');
    const sales = await openSource(url.toString());
    try {
      expect(sales.schema).toBe('Sales Dept');
      expect(sales.database).toBe(db.name);
      const cat = await sales.catalog({ withCounts: true });
      expect(cat.tables.map((t) => [t.schema, t.name, t.rowCount])).toEqual([
        ['Sales Dept', 'Q"1', 2],
        ['Sales Dept', 'detail', 0],
      ]);
      const detail = byName(cat, 'detail');
      expect(detail.foreignKeys).toEqual([
        { name: 'detail_q_id_fkey', columns: ['q_id'], refTable: 'Q"1', refColumns: ['Id'], definition: expect.stringContaining('REFERENCES "Sales Dept"."Q""1"("Id")') },
      ]);
      const rows = batchRows(await collectBatches(sales, byName(cat, 'Q"1')));
      expect(rows).toEqual([
        [1, '10.50'],
        [2, '20.00'],
      ]);
    } finally {
      await sales.close();
    }
    expect(catalog.tables.map((t) => t.name)).not.toContain('detail');
  });

  it('refuses a schema that does not exist with a ConfigError', async () => {
    const err = (await openSource(`${db.url}?schema=nope_schema`).catch((e: unknown) => e)) as SenseiError;
    expect(isConfigError(err)).toBe(true);
    expect(err.message).toMatch(/"nope_schema"/);
    expect(err.hint).toMatch(/\?schema=/);
  });

  it('refuses a resume key of the wrong length and a non-positive batch size with PlanError', async () => {
    const t = byName(catalog, 'textkeys');
    await expect(collectBatches(src, t, { afterKey: ['a'] })).rejects.toSatisfy(isPlanError);
    await expect(collectBatches(src, t, { batchSize: 0 })).rejects.toSatisfy(isPlanError);
  });

  it('reports a bad resume value without echoing it', async () => {
    const err = (await collectBatches(src, byName(catalog, 'bigkeys'), { afterKey: ['secret-not-a-number'] }).catch((e: unknown) => e)) as SenseiError;
    expect(isConnectionError(err)).toBe(true);
    expect(err.message).toMatch(/bigkeys/);
    expect(err.message).toMatch(/22P02/);
    expect(err.message).not.toMatch(/secret-not-a-number/);
  });
});

describe('PostgresSource connection failures', () => {
  it('reports an unreachable server as a ConnectionError naming host:port/database, never the password', async () => {
    const err = (await openSource('postgres://postgres:pw-s3cret-42@127.0.0.1:1/somedb').catch((e: unknown) => e)) as SenseiError;
    expect(isConnectionError(err)).toBe(true);
    expect(err.message).toContain('127.0.0.1:1/somedb');
    expect(err.message).not.toContain('pw-s3cret-42');
    expect(err.hint).toMatch(/start the PostgreSQL server/);
  });

  it('reports a failed login without the password', async () => {
    const err = (await openSource('postgres://no_such_role_xyz:pw-s3cret-42@127.0.0.1:5432/postgres').catch((e: unknown) => e)) as SenseiError;
    expect(isConnectionError(err)).toBe(true);
    expect(err.message).toContain('127.0.0.1:5432/postgres');
    expect(err.message).toMatch(/no_such_role_xyz/);
    expect(err.message).not.toContain('pw-s3cret-42');
    expect(err.hint).toMatch(/user and the source credentials/);
  });

  it('refuses a URL that is not PostgreSQL, and use before connect()', async () => {
    expect(() => new PostgresSource('mysql://root@localhost/db')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => new PostgresSource('not a url')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    const idle = new PostgresSource('postgres://postgres@127.0.0.1:5432/postgres');
    await expect(idle.countRows({ schema: 'public', name: 'x', columns: [], primaryKey: [], foreignKeys: [], uniques: [], rowCount: null })).rejects.toSatisfy(
      isConnectionError,
    );
  });
});

describe('postgresLogicalType', () => {
  it.each([
    ['smallint', { kind: 'int16' }],
    ['integer', { kind: 'int32' }],
    ['bigint', { kind: 'int64' }],
    ['numeric(12,2)', { kind: 'decimal', precision: 12, scale: 2 }],
    ['numeric(7)', { kind: 'decimal', precision: 7, scale: 0 }],
    ['numeric', { kind: 'decimal' }],
    ['real', { kind: 'float32' }],
    ['double precision', { kind: 'float64' }],
    ['boolean', { kind: 'boolean' }],
    ['character(1)', { kind: 'char', length: 1 }],
    ['bpchar', { kind: 'char' }],
    ['character varying(40)', { kind: 'varchar', length: 40 }],
    ['character varying', { kind: 'varchar' }],
    ['text', { kind: 'text' }],
    ['date', { kind: 'date' }],
    ['time(3) without time zone', { kind: 'time' }],
    ['time with time zone', { kind: 'time' }],
    ['timestamp(3) without time zone', { kind: 'timestamp' }],
    ['timestamp with time zone', { kind: 'timestamptz' }],
    ['interval year to month', { kind: 'interval' }],
    ['bytea', { kind: 'bytes' }],
    ['json', { kind: 'json' }],
    ['jsonb', { kind: 'json' }],
    ['uuid', { kind: 'uuid' }],
    ['integer[]', { kind: 'unknown' }],
    ['character varying(20)[]', { kind: 'unknown' }],
    ['mood', { kind: 'unknown' }],
    ['inet', { kind: 'unknown' }],
  ])('%s', (declared, expected) => {
    expect(postgresLogicalType(declared)).toEqual(expected);
  });
});
