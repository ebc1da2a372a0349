// One contract suite every TargetConnector must pass, run by targets.test.ts against each real backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetConnector } from '../../connectors/connector.js';
import { isConnectionError } from '../../core/errors.js';

/** What a backend gives the contract: a way to open a target on a fresh, empty database, and to clean up. */
export interface TargetContractFixture {
  open(): Promise<TargetConnector>;
  teardown(): Promise<void>;
}

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** A COPY text field: `\N` for NULL; backslash, tab, newline and carriage return escaped. */
const field = (v: string | null) =>
  v === null ? '\\N' : v.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
const copyText = (rows: (string | null)[][]) => rows.map((r) => r.map(field).join('\t')).join('\n') + '\n';

/**
 * Register the target-connector contract for one backend. `setup` runs once (beforeAll); the target it opens must
 * start empty. The last test closes the target.
 */
export function runTargetContract(name: string, setup: () => Promise<TargetContractFixture>): void {
  describe(`target contract: ${name}`, () => {
    let handle: TargetContractFixture | undefined;
    let target: TargetConnector;
    let t: (table: string) => string;

    beforeAll(async () => {
      handle = await setup();
      target = await handle.open();
      t = (table) => `${q(target.schema)}.${q(table)}`;
      await target.query(`
        CREATE TABLE ${t('parent')} (
          "a" integer NOT NULL,
          "b" text NOT NULL,
          "label" varchar(40) DEFAULT 'none',
          PRIMARY KEY ("a", "b")
        );
        CREATE TABLE ${t('child')} (
          "id" bigint PRIMARY KEY,
          "pa" integer,
          "pb" text,
          "code" char(3) UNIQUE,
          "doubled" bigint GENERATED ALWAYS AS ("id" * 2) STORED,
          CONSTRAINT "child_parent_fk" FOREIGN KEY ("pa", "pb") REFERENCES ${t('parent')} ("a", "b") ON DELETE CASCADE
        );
        CREATE TABLE ${t('values')} (
          "id" integer PRIMARY KEY,
          "txt" text,
          "amount" numeric(30,10),
          "raw" bytea,
          "flag" boolean,
          "at" timestamptz
        );
      `);
    });

    afterAll(async () => {
      try {
        await target?.close();
      } finally {
        await handle?.teardown();
      }
    });

    it('declares a PostgreSQL-family target with transactional DDL and a schema', () => {
      expect(target.dialect).toMatch(/^(postgres|pglite)$/);
      expect(target.database.length).toBeGreaterThan(0);
      expect(target.schema.length).toBeGreaterThan(0);
      expect(target.capabilities.supportsTransactionalDdl).toBe(true);
      expect(['copy-stream', 'blob-copy']).toContain(target.capabilities.bulkWrite);
    });

    it('loads COPY text with NULLs, escapes, unicode, bytea and exact numerics, and reads it back as text', async () => {
      const rows: (string | null)[][] = [
        ['1', 'tab\there', '12345678901234567890.1234567890', '\\x00ff10', 't', '2024-03-10 12:00:00+05:30'],
        ['2', 'line1\nline2\r\nend', '-0.0000000001', '\\x', 'f', '1999-12-31 23:59:59.123456+00'],
        ['3', 'back\\slash \\N not null', '0', null, null, null],
        ['4', 'Zoë 😀 日本語', null, '\\xdeadbeef', 't', null],
        ['5', null, '1e3', null, null, null],
      ];
      const loaded = await target.transaction((s) =>
        s.copyFrom(t('values'), ['id', 'txt', 'amount', 'raw', 'flag', 'at'], copyText(rows)),
      );
      expect(loaded).toBe(5);

      const res = await target.query(`SELECT "id", "txt", "amount", "raw", "flag", "at" FROM ${t('values')} ORDER BY "id"`);
      expect(res.rowCount).toBe(5);
      expect(res.rows).toEqual([
        { id: '1', txt: 'tab\there', amount: '12345678901234567890.1234567890', raw: '\\x00ff10', flag: 't', at: '2024-03-10 06:30:00+00' },
        { id: '2', txt: 'line1\nline2\r\nend', amount: '-0.0000000001', raw: '\\x', flag: 'f', at: '1999-12-31 23:59:59.123456+00' },
        { id: '3', txt: 'back\\slash \\N not null', amount: '0.0000000000', raw: null, flag: null, at: null },
        { id: '4', txt: 'Zoë 😀 日本語', amount: null, raw: '\\xdeadbeef', flag: 't', at: null },
        { id: '5', txt: null, amount: '1000.0000000000', raw: null, flag: null, at: null },
      ]);
      const bytes = await target.query<{ n: string; hex: string }>(
        `SELECT length("raw") AS n, encode("raw", 'hex') AS hex FROM ${t('values')} WHERE "id" = 4`,
      );
      expect(bytes.rows).toEqual([{ n: '4', hex: 'deadbeef' }]);
    });

    it('binds parameters like pg: strings as typed, Buffers as bytea, numbers and booleans', async () => {
      const ins = await target.query(`INSERT INTO ${t('values')} ("id", "txt", "raw", "flag", "amount") VALUES ($1, $2, $3, $4, $5)`, [
        10,
        'param ✓',
        Buffer.from([1, 2, 255]),
        true,
        '3.5',
      ]);
      expect(ins.rowCount).toBe(1);
      const asText = await target.query(`INSERT INTO ${t('values')} ("id", "raw") VALUES ($1, $2)`, ['11', '\\x0a0b']);
      expect(asText.rowCount).toBe(1);
      const res = await target.query(`SELECT "id", "txt", "raw", "flag", "amount" FROM ${t('values')} WHERE "id" >= $1 ORDER BY "id"`, [10]);
      expect(res.rows).toEqual([
        { id: '10', txt: 'param ✓', raw: '\\x0102ff', flag: 't', amount: '3.5000000000' },
        { id: '11', txt: null, raw: '\\x0a0b', flag: null, amount: null },
      ]);
      const del = await target.query(`DELETE FROM ${t('values')} WHERE "id" >= 10`);
      expect(del.rowCount).toBe(2);
    });

    it('runs several statements without parameters and answers with the last one', async () => {
      const res = await target.query<{ n: string }>(`SELECT 1 AS "x"; SELECT count(*) AS "n" FROM ${t('values')}`);
      expect(res.rows).toEqual([{ n: '5' }]);
      expect(res.rowCount).toBe(1);
      const ddl = await target.query(`CREATE TABLE ${t('scratch')} ("x" int); DROP TABLE ${t('scratch')}`);
      expect(ddl.rows).toEqual([]);
      expect(ddl.rowCount).toBe(0);
    });

    it('commits a transaction that resolves and returns its value', async () => {
      const out = await target.transaction(async (s) => {
        await s.query(`INSERT INTO ${t('parent')} ("a", "b") VALUES ($1, $2)`, [1, 'one']);
        const n = await s.copyFrom(t('parent'), ['a', 'b', 'label'], copyText([['2', 'two', 'second'], ['3', 'three', null]]));
        return `loaded ${n}`;
      });
      expect(out).toBe('loaded 2');
      const res = await target.query(`SELECT "a", "b", "label" FROM ${t('parent')} ORDER BY "a"`);
      expect(res.rows).toEqual([
        { a: '1', b: 'one', label: 'none' },
        { a: '2', b: 'two', label: 'second' },
        { a: '3', b: 'three', label: null },
      ]);
    });

    it('rolls back everything, DDL included, when the callback throws, and rethrows the same error', async () => {
      const boom = new Error('callback failed');
      const run = target.transaction(async (s) => {
        await s.query(`INSERT INTO ${t('parent')} ("a", "b") VALUES (100, 'gone')`);
        await s.copyFrom(t('parent'), ['a', 'b'], copyText([['101', 'gone too']]));
        await s.query(`CREATE TABLE ${t('ghost')} ("x" int)`);
        throw boom;
      });
      await expect(run).rejects.toBe(boom);
      const res = await target.query(`SELECT count(*) AS "n" FROM ${t('parent')} WHERE "a" >= 100`);
      expect(res.rows).toEqual([{ n: '0' }]);
      const ghost = await target.query(`SELECT to_regclass($1) AS "r"`, [`${q(target.schema)}.${q('ghost')}`]);
      expect(ghost.rows).toEqual([{ r: null }]);
    });

    it('fails a COPY with a bad value with the database message, keeps no values on the error, and leaves nothing', async () => {
      let caught: unknown;
      await target
        .transaction(async (s) => {
          await s.copyFrom(t('values'), ['id', 'txt'], copyText([['20', 'fine']]));
          await s.copyFrom(t('values'), ['id', 'txt'], copyText([['21', 'ok'], ['not-a-number', 'secret-value']]));
        })
        .catch((e: unknown) => {
          caught = e;
        });
      expect(caught).toBeInstanceOf(Error);
      expect((caught as Error).message).toMatch(/invalid input syntax for type integer/);
      expect((caught as { code?: string }).code).toBe('22P02');
      expect(caught).not.toHaveProperty('params');
      expect(caught).not.toHaveProperty('queryOptions');
      const res = await target.query(`SELECT count(*) AS "n" FROM ${t('values')} WHERE "id" >= 20`);
      expect(res.rows).toEqual([{ n: '0' }]);
      // The connector is still usable after the failed COPY.
      expect((await target.query('SELECT 42 AS "v"')).rows).toEqual([{ v: '42' }]);
    });

    it('rejects a statement with the database error message and SQLSTATE', async () => {
      await expect(target.query('SELECT * FROM "no_such_table_xyz"')).rejects.toMatchObject({
        message: expect.stringMatching(/relation "no_such_table_xyz" does not exist/),
        code: '42P01',
      });
      await expect(target.query(`INSERT INTO ${t('parent')} ("a", "b") VALUES ($1, $2)`, [1, 'one'])).rejects.toMatchObject({
        code: '23505',
      });
    });

    it('stages through a temporary table dropped at commit, as the executor does', async () => {
      const moved = await target.transaction(async (s) => {
        await s.query('CREATE TEMP TABLE "_stage" ("ord" integer, "v" text) ON COMMIT DROP');
        await s.copyFrom('pg_temp."_stage"', ['ord', 'v'], copyText([['0', '30'], ['1', '31']]));
        const ins = await s.query(`INSERT INTO ${t('values')} ("id") SELECT CAST("v" AS integer) FROM pg_temp."_stage" ORDER BY "ord"`);
        return ins.rowCount;
      });
      expect(moved).toBe(2);
      await expect(target.query('SELECT * FROM pg_temp."_stage"')).rejects.toMatchObject({ code: '42P01' });
      await target.query(`DELETE FROM ${t('values')} WHERE "id" IN (30, 31)`);
    });

    it('keeps cursors and savepoints working across the statements of one transaction', async () => {
      const fetched = await target.transaction(async (s) => {
        await s.query(`DECLARE "c" NO SCROLL CURSOR FOR SELECT "id"::text AS "id" FROM ${t('values')} ORDER BY "id"`);
        const first = await s.query<{ id: string }>('FETCH 2 FROM "c"');
        const second = await s.query<{ id: string }>('FETCH 10 FROM "c"');
        await s.query('CLOSE "c"');
        await s.query('SAVEPOINT "sp"');
        await s.query(`INSERT INTO ${t('values')} ("id") VALUES (40)`);
        await expect(s.query(`INSERT INTO ${t('values')} ("id") VALUES (40)`)).rejects.toMatchObject({ code: '23505' });
        await s.query('ROLLBACK TO SAVEPOINT "sp"');
        await s.query(`INSERT INTO ${t('values')} ("id") VALUES (41)`);
        return [first.rows.map((r) => r.id), second.rows.map((r) => r.id)];
      });
      expect(fetched).toEqual([['1', '2'], ['3', '4', '5']]);
      const kept = await target.query(`SELECT "id" FROM ${t('values')} WHERE "id" IN (40, 41)`);
      expect(kept.rows).toEqual([{ id: '41' }]);
      await target.query(`DELETE FROM ${t('values')} WHERE "id" = 41`);
    });

    it('loads a large COPY in one call', async () => {
      const rows = Array.from({ length: 20_000 }, (_, i) => [String(1000 + i), `row ${i}\twith tab`]);
      const n = await target.transaction((s) => s.copyFrom(t('values'), ['id', 'txt'], copyText(rows)));
      expect(n).toBe(20_000);
      const res = await target.query<{ n: string; last: string }>(
        `SELECT count(*) AS "n", max("txt") FILTER (WHERE "id" = 20999) AS "last" FROM ${t('values')} WHERE "id" >= 1000`,
      );
      expect(res.rows).toEqual([{ n: '20000', last: 'row 19999\twith tab' }]);
      await target.query(`DELETE FROM ${t('values')} WHERE "id" >= 1000`);
    });

    it('describes its tables: columns, composite PK, FKs with definition, uniques, generated columns, counts', async () => {
      await target.query(`INSERT INTO ${t('child')} ("id", "pa", "pb", "code") VALUES (1, 1, 'one', 'abc'), (2, NULL, NULL, NULL)`);
      const catalog = await target.catalog({ withCounts: true });
      expect(catalog.dialect).toBe(target.dialect);
      expect(catalog.database).toBe(target.database);
      expect(catalog.tables.map((x) => x.name)).toEqual(['child', 'parent', 'values']);
      const parent = catalog.tables.find((x) => x.name === 'parent')!;
      const child = catalog.tables.find((x) => x.name === 'child')!;
      expect(parent.schema).toBe(target.schema);
      expect(parent.primaryKey).toEqual(['a', 'b']);
      expect(parent.rowCount).toBe(3);
      expect(child.rowCount).toBe(2);
      expect(parent.columns.map((c) => [c.name, c.declaredType, c.logicalType.kind, c.nullable, c.defaultValue, c.ordinal])).toEqual([
        ['a', 'integer', 'int32', false, null, 1],
        ['b', 'text', 'text', false, null, 2],
        ['label', 'character varying(40)', 'varchar', true, "'none'::character varying", 3],
      ]);
      expect(child.foreignKeys).toEqual([
        {
          name: 'child_parent_fk',
          columns: ['pa', 'pb'],
          refTable: 'parent',
          refColumns: ['a', 'b'],
          definition: 'FOREIGN KEY (pa, pb) REFERENCES parent(a, b) ON DELETE CASCADE',
        },
      ]);
      expect(child.uniques).toEqual([{ name: 'child_code_key', columns: ['code'] }]);
      expect(child.columns.find((c) => c.name === 'code')!.logicalType).toEqual({ kind: 'char', length: 3 });
      const doubled = child.columns.find((c) => c.name === 'doubled')!;
      expect(doubled.isGenerated).toBe(true);
      expect(child.columns.filter((c) => c.isGenerated).map((c) => c.name)).toEqual(['doubled']);
      const values = catalog.tables.find((x) => x.name === 'values')!;
      expect(values.columns.find((c) => c.name === 'amount')!.logicalType).toEqual({ kind: 'decimal', precision: 30, scale: 10 });
      expect(values.columns.find((c) => c.name === 'at')!.logicalType).toEqual({ kind: 'timestamptz' });
      const plain = await target.catalog();
      expect(plain.tables.map((x) => x.rowCount)).toEqual([null, null, null]);
    });

    it('refuses to work after close, with a ConnectionError; close is idempotent', async () => {
      await target.close();
      await target.close();
      await expect(target.query('SELECT 1')).rejects.toSatisfy(isConnectionError);
      await expect(target.transaction(async () => 1)).rejects.toSatisfy(isConnectionError);
    });
  });
}
