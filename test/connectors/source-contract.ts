// One contract suite every SourceConnector must pass, run by each backend's test file against a real database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Batch, BatchColumn, IrValue } from '../../core/batch.js';
import type { Catalog, LogicalKind, TableDef } from '../../core/catalog.js';
import { isSenseiError } from '../../core/errors.js';
import type { ReadOptions, SourceConnector } from '../../connectors/connector.js';

/** A value in the shared fixture: what each backend's setup inserts (with parameters, in the listed row order). */
export type FixtureValue = string | number | boolean | Buffer | null;

export interface FixtureTable {
  name: string;
  columns: string[];
  /** Rows in insertion order (deliberately not key order). */
  rows: FixtureValue[][];
}

/**
 * The logical content every backend's setup must load: same tables, columns (in this order), keys and rows.
 * DDL lives in each backend's test file; types per column (use the backend's natural spelling):
 *
 * - `customers`: `id` integer PRIMARY KEY, `name` varchar(100) NOT NULL, `email` varchar(200) NULL UNIQUE,
 *   `balance` decimal(12,2) NOT NULL, `birth_date` date NULL, `created_at` timestamp without zone (MySQL DATETIME)
 *   NOT NULL, `is_active` boolean-ish NOT NULL (PostgreSQL boolean, MySQL TINYINT(1), SQLite BOOLEAN).
 * - `orders`: `id` integer PRIMARY KEY, `customer_id` integer NOT NULL REFERENCES customers(id), `order_no`
 *   varchar(20) NOT NULL, `ordered_on` date NOT NULL, `total` decimal(12,2) NULL, UNIQUE (customer_id, order_no).
 * - `order_items`: `order_id` integer NOT NULL REFERENCES orders(id), `line_no` integer NOT NULL, `product` text
 *   NOT NULL, `quantity` integer NOT NULL, `unit_price` decimal(10,2) NOT NULL, PRIMARY KEY (order_id, line_no).
 * - `notes` (no primary key): `body` text NOT NULL, `author` varchar(50) NULL.
 * - `empty_table`: `id` integer PRIMARY KEY, `label` varchar(20) NULL — no rows.
 * - `big_values`: `id` integer PRIMARY KEY, `big_number` bigint NOT NULL, `payload` blob/bytea NULL.
 *
 * Decimal and bigint values are given as strings; bind them as such (or as BigInt), booleans as the backend needs.
 */
export const SOURCE_FIXTURE: readonly FixtureTable[] = [
  {
    name: 'customers',
    columns: ['id', 'name', 'email', 'balance', 'birth_date', 'created_at', 'is_active'],
    rows: [
      [7, 'Grace Hopper', 'grace@example.com', '7.00', '1906-12-09', '2024-07-07 07:07:07', true],
      [3, '😀 Emoji Fan 🎉', null, '-15.50', null, '2023-07-04 00:00:00', true],
      [10, 'Zed Last', 'zed@example.com', '10.10', '1999-12-31', '2024-12-31 23:59:59', false],
      [1, 'Alice Smith', 'alice@example.com', '1234567.89', '1990-05-17', '2024-01-15 10:30:00', true],
      [5, '日本語テキスト', 'nihon@example.com', '999.99', '1975-03-03', '2024-05-05 05:05:05', false],
      [2, 'Zoë Müller', 'zoe@example.com', '0.00', '1985-12-01', '2024-02-29 23:59:59', false],
      [9, 'Ivy Nine', 'ivy@example.com', '9.90', '2001-09-09', '2024-09-09 09:09:09', true],
      [4, "O'Brien \\ \"quoted\"", 'obrien@example.com', '100.00', '2000-01-01', '2024-04-01 12:00:00', true],
      [8, 'Hank Eight', null, '88.80', '1988-08-08', '2024-08-08 08:08:08', false],
      [6, 'Frank Six', 'frank@example.com', '6.06', '1966-06-06', '2024-06-06 06:06:06', true],
    ],
  },
  {
    name: 'orders',
    columns: ['id', 'customer_id', 'order_no', 'ordered_on', 'total'],
    rows: [
      [4, 3, 'B-7', '2024-04-10', '0.99'],
      [1, 1, 'A-1', '2024-03-01', '150.00'],
      [6, 10, 'D-3', '2024-06-30', '12.34'],
      [2, 1, 'A-2', '2024-03-02', null],
      [5, 5, 'C-1', '2024-05-20', '1000.00'],
      [3, 2, 'A-1', '2024-03-05', '20.50'],
    ],
  },
  {
    name: 'order_items',
    columns: ['order_id', 'line_no', 'product', 'quantity', 'unit_price'],
    rows: [
      [3, 10, 'Other', 1, '0.00'],
      [1, 2, 'Gadget', 1, '50.00'],
      [6, 1, 'Last', 1, '12.34'],
      [3, 1, 'Thing', 1, '20.50'],
      [1, 1, 'Widget', 2, '50.00'],
      [5, 1, 'Big', 10, '100.00'],
      [3, 2, 'Ünïcödé item ✓', 3, '0.01'],
      [2, 1, 'Gizmo', 5, '3.10'],
      [4, 1, 'Cheap', 1, '0.99'],
    ],
  },
  {
    name: 'notes',
    columns: ['body', 'author'],
    rows: [
      ['First note', 'alice'],
      ['Second note', null],
      ['Ünïcode ✓ note', 'zoë'],
      ['Last note', 'bob'],
    ],
  },
  { name: 'empty_table', columns: ['id', 'label'], rows: [] },
  {
    name: 'big_values',
    columns: ['id', 'big_number', 'payload'],
    rows: [
      [2, '-9007199254740993', null],
      [1, '9007199254740993', Buffer.from([0x00, 0x01, 0xfe, 0xff])],
      [3, '42', Buffer.alloc(0)],
    ],
  },
];

/** What a backend's test file gives the contract: a way to open a source on the loaded fixture, and to clean up. */
export interface SourceContractFixture {
  open(): Promise<SourceConnector>;
  teardown(): Promise<void>;
}

const INT_KINDS: LogicalKind[] = ['int16', 'int32', 'int64'];

/** Logical kinds the contract accepts per column: backends differ in integer width and in how they spell booleans. */
const EXPECTED_KINDS: Record<string, Record<string, LogicalKind[]>> = {
  customers: {
    id: INT_KINDS,
    name: ['varchar'],
    email: ['varchar'],
    balance: ['decimal'],
    birth_date: ['date'],
    created_at: ['timestamp'],
    is_active: ['boolean', 'int16'],
  },
  orders: { id: INT_KINDS, customer_id: INT_KINDS, order_no: ['varchar'], ordered_on: ['date'], total: ['decimal'] },
  order_items: {
    order_id: INT_KINDS,
    line_no: INT_KINDS,
    product: ['text'],
    quantity: INT_KINDS,
    unit_price: ['decimal'],
  },
  notes: { body: ['text'], author: ['varchar'] },
  empty_table: { id: INT_KINDS, label: ['varchar'] },
  big_values: { id: INT_KINDS, big_number: ['int64'], payload: ['bytes'] },
};

const NULLABLE: Record<string, string[]> = {
  customers: ['email', 'birth_date'],
  orders: ['total'],
  order_items: [],
  notes: ['author'],
  empty_table: ['label'],
  big_values: ['payload'],
};

const PRIMARY_KEYS: Record<string, string[]> = {
  customers: ['id'],
  orders: ['id'],
  order_items: ['order_id', 'line_no'],
  notes: [],
  empty_table: ['id'],
  big_values: ['id'],
};

const CANONICAL: Record<LogicalKind, (v: IrValue) => boolean> = {
  boolean: (v) => typeof v === 'boolean',
  int16: (v) => typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 32768,
  int32: (v) => typeof v === 'number' && Number.isInteger(v),
  int64: (v) => typeof v === 'string' && /^-?\d+$/.test(v),
  decimal: (v) => typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v),
  float32: (v) => typeof v === 'number',
  float64: (v) => typeof v === 'number',
  char: (v) => typeof v === 'string',
  varchar: (v) => typeof v === 'string',
  text: (v) => typeof v === 'string',
  date: (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v),
  time: (v) => typeof v === 'string' && /^-?\d{2,3}:\d{2}:\d{2}(\.\d{1,6})?$/.test(v),
  timestamp: (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$/.test(v),
  timestamptz: (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00:00$/.test(v),
  interval: (v) => typeof v === 'string',
  bytes: (v) => Buffer.isBuffer(v),
  bits: (v) => typeof v === 'string' && /^[01]+$/.test(v),
  json: (v) => typeof v === 'string',
  uuid: (v) => typeof v === 'string',
  unknown: () => true,
};

/** Read every batch of a table (the contract's tables are tiny). */
export async function collectBatches(src: SourceConnector, table: TableDef, options: ReadOptions = {}): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of src.readBatches(table, options)) out.push(b);
  return out;
}

/** Rows of several batches, each as an array in batch column order. */
export function batchRows(batches: Batch[]): IrValue[][] {
  return batches.flatMap((b) => Array.from({ length: b.rowCount }, (_, r) => b.values.map((col) => col[r] ?? null)));
}

/** A backend-neutral comparison form: integers and boolean-ish flags become digit strings; the canonical-form check is separate. */
function comparable(v: IrValue | FixtureValue): unknown {
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? '1' : '0';
  return v;
}

function fixture(name: string): FixtureTable {
  const t = SOURCE_FIXTURE.find((f) => f.name === name);
  if (!t) throw new Error(`no fixture table ${name}`);
  return t;
}

/** The fixture rows of a table in key order (numeric keys), in comparable form. */
function expectedRows(name: string): unknown[][] {
  const t = fixture(name);
  const keyIdx = PRIMARY_KEYS[name]!.map((k) => t.columns.indexOf(k));
  const rows = [...t.rows];
  if (keyIdx.length > 0) {
    rows.sort((a, b) => {
      for (const i of keyIdx) {
        const d = Number(a[i]) - Number(b[i]);
        if (d !== 0) return d;
      }
      return 0;
    });
  }
  return rows.map((r) => r.map(comparable));
}

const asComparable = (rows: IrValue[][]): unknown[][] => rows.map((r) => r.map(comparable));

/** Multiset comparison for tables read without a key order: sort by a stable text form. */
const sortedForm = (rows: unknown[][]): string[] =>
  rows.map((r) => JSON.stringify(r.map((v) => (Buffer.isBuffer(v) ? `buf:${v.toString('hex')}` : v)))).sort();

/**
 * Register the source-connector contract for one backend. `setup` creates a throw-away database loaded with
 * `SOURCE_FIXTURE` and returns how to open a source on it and how to drop it; it runs once, in `beforeAll`.
 */
export function runSourceContract(name: string, setup: () => Promise<SourceContractFixture>): void {
  describe(`source contract: ${name}`, () => {
    let handle: SourceContractFixture | undefined;
    let src: SourceConnector;
    let catalog: Catalog;

    const table = (tableName: string): TableDef => {
      const t = catalog.tables.find((x) => x.name === tableName);
      if (!t) throw new Error(`catalog has no table ${tableName}`);
      return t;
    };
    const keyIndexes = (t: TableDef, b: Batch): number[] =>
      t.primaryKey.map((k) => b.columns.findIndex((c) => c.name === k));

    beforeAll(async () => {
      handle = await setup();
      src = await handle.open();
      catalog = await src.catalog({ withCounts: true });
    });

    afterAll(async () => {
      try {
        await src?.close();
      } finally {
        await handle?.teardown();
      }
    });

    it('names its dialect and database without credentials', () => {
      expect(src.dialect).toMatch(/^[a-z]+$/);
      expect(src.database.length).toBeGreaterThan(0);
      expect(src.database).not.toMatch(/[@]|:\/\//);
      expect(catalog.dialect).toBe(src.dialect);
    });

    it('lists exactly the fixture tables', () => {
      expect(catalog.tables.map((t) => t.name).sort()).toEqual(SOURCE_FIXTURE.map((f) => f.name).sort());
    });

    it('lists columns in ordinal order with nullability and logical kinds', () => {
      for (const f of SOURCE_FIXTURE) {
        const t = table(f.name);
        expect(t.columns.map((c) => c.name), f.name).toEqual(f.columns);
        expect(t.columns.map((c) => c.ordinal), f.name).toEqual(f.columns.map((_, i) => i + 1));
        for (const c of t.columns) {
          const where = `${f.name}.${c.name}`;
          expect(EXPECTED_KINDS[f.name]![c.name], where).toContain(c.logicalType.kind);
          expect(c.nullable, where).toBe(NULLABLE[f.name]!.includes(c.name));
          expect(c.isGenerated, where).toBe(false);
          expect(c.declaredType.length, where).toBeGreaterThan(0);
        }
      }
    });

    it('keeps type parameters: varchar lengths and decimal precision/scale', () => {
      const col = (t: string, c: string) => table(t).columns.find((x) => x.name === c)!.logicalType;
      expect(col('customers', 'name')).toMatchObject({ kind: 'varchar', length: 100 });
      expect(col('customers', 'email')).toMatchObject({ kind: 'varchar', length: 200 });
      expect(col('customers', 'balance')).toMatchObject({ kind: 'decimal', precision: 12, scale: 2 });
      expect(col('order_items', 'unit_price')).toMatchObject({ kind: 'decimal', precision: 10, scale: 2 });
      expect(col('notes', 'author')).toMatchObject({ kind: 'varchar', length: 50 });
    });

    it('reports primary keys in key order, empty without one', () => {
      for (const f of SOURCE_FIXTURE) expect(table(f.name).primaryKey, f.name).toEqual(PRIMARY_KEYS[f.name]);
    });

    it('reports foreign keys with referenced table and columns', () => {
      const fks = (t: string) =>
        table(t).foreignKeys.map((fk) => ({ columns: fk.columns, refTable: fk.refTable, refColumns: fk.refColumns }));
      expect(fks('orders')).toEqual([{ columns: ['customer_id'], refTable: 'customers', refColumns: ['id'] }]);
      expect(fks('order_items')).toEqual([{ columns: ['order_id'], refTable: 'orders', refColumns: ['id'] }]);
      for (const t of ['customers', 'notes', 'empty_table', 'big_values']) expect(fks(t), t).toEqual([]);
      for (const t of catalog.tables) for (const fk of t.foreignKeys) expect(fk.name.length).toBeGreaterThan(0);
    });

    it('reports unique constraints (not the primary key) with columns in order', () => {
      const uniques = (t: string) => table(t).uniques.map((u) => u.columns);
      expect(uniques('customers')).toEqual([['email']]);
      expect(uniques('orders')).toEqual([['customer_id', 'order_no']]);
      for (const t of ['order_items', 'notes', 'empty_table', 'big_values']) expect(uniques(t), t).toEqual([]);
    });

    it('counts rows exactly with withCounts and countRows, and leaves counts null without', async () => {
      for (const f of SOURCE_FIXTURE) {
        expect(table(f.name).rowCount, f.name).toBe(f.rows.length);
        expect(await src.countRows(table(f.name)), f.name).toBe(f.rows.length);
      }
      const plain = await src.catalog();
      expect(plain.tables.map((t) => t.rowCount)).toEqual(plain.tables.map(() => null));
    });

    it('reads every row once in key order, respecting the batch size and offsets', async () => {
      const t = table('customers');
      const batches = await collectBatches(src, t, { batchSize: 3 });
      expect(batches.map((b) => b.rowCount)).toEqual([3, 3, 3, 1]);
      expect(batches.map((b) => b.offset)).toEqual([0, 3, 6, 9]);
      expect(asComparable(batchRows(batches))).toEqual(expectedRows('customers'));
      for (const b of batches) {
        expect(b.table).toBe('customers');
        expect(b.columns.map((c) => c.name)).toEqual(t.columns.map((c) => c.name));
        expect(b.values).toHaveLength(b.columns.length);
        for (const col of b.values) expect(col).toHaveLength(b.rowCount);
        const k = keyIndexes(t, b);
        expect(b.lastKey).toEqual(k.map((i) => b.values[i]![b.rowCount - 1]));
      }
    });

    it('reads a composite key in row-value order and resumes after a mid-batch key with exactly the rest', async () => {
      const t = table('order_items');
      const all = await collectBatches(src, t, { batchSize: 4 });
      expect(all.map((b) => b.rowCount)).toEqual([4, 4, 1]);
      const expected = expectedRows('order_items');
      expect(asComparable(batchRows(all))).toEqual(expected);
      // (3,1) then (3,2), (3,10): a per-column `a > x AND b > y` or a text comparison of keys would get this wrong.
      expect(all[0]!.lastKey!.map(comparable)).toEqual(['3', '1']);
      const rest = await collectBatches(src, t, { batchSize: 2, afterKey: all[0]!.lastKey });
      expect(rest.map((b) => b.rowCount)).toEqual([2, 2, 1]);
      expect(asComparable(batchRows(rest))).toEqual(expected.slice(4));
    });

    it('resumes a single-column key from a later batch', async () => {
      const t = table('customers');
      const first = await collectBatches(src, t, { batchSize: 3 });
      const rest = await collectBatches(src, t, { batchSize: 3, afterKey: first[1]!.lastKey });
      expect(asComparable(batchRows(rest))).toEqual(expectedRows('customers').slice(6));
      const none = await collectBatches(src, t, { batchSize: 3, afterKey: first[3]!.lastKey });
      expect(none).toEqual([]);
    });

    it('uses the default batch size when none is given', async () => {
      const batches = await collectBatches(src, table('customers'));
      expect(batches.map((b) => b.rowCount)).toEqual([10]);
    });

    it('returns canonical values', async () => {
      const byId = (rows: IrValue[][], id: string) => rows.find((r) => comparable(r[0]!) === id)!;
      const customers = batchRows(await collectBatches(src, table('customers')));
      const alice = byId(customers, '1');
      expect(alice[1]).toBe('Alice Smith');
      expect(alice[3]).toBe('1234567.89');
      expect(alice[4]).toBe('1990-05-17');
      expect(alice[5]).toBe('2024-01-15 10:30:00');
      expect([true, 1]).toContain(alice[6]);
      expect(byId(customers, '2')[1]).toBe('Zoë Müller');
      expect(byId(customers, '2')[3]).toBe('0.00');
      expect([false, 0]).toContain(byId(customers, '2')[6]);
      const emoji = byId(customers, '3');
      expect(emoji[1]).toBe('😀 Emoji Fan 🎉');
      expect(emoji[2]).toBeNull();
      expect(emoji[3]).toBe('-15.50');
      expect(emoji[4]).toBeNull();
      expect(byId(customers, '4')[1]).toBe("O'Brien \\ \"quoted\"");
      expect(byId(customers, '5')[1]).toBe('日本語テキスト');

      const big = batchRows(await collectBatches(src, table('big_values')));
      expect(big.map((r) => r[1])).toEqual(['9007199254740993', '-9007199254740993', '42']);
      expect(Buffer.isBuffer(big[0]![2])).toBe(true);
      expect((big[0]![2] as Buffer).equals(Buffer.from([0x00, 0x01, 0xfe, 0xff]))).toBe(true);
      expect(big[1]![2]).toBeNull();
      expect(Buffer.isBuffer(big[2]![2])).toBe(true);
      expect((big[2]![2] as Buffer).length).toBe(0);
    });

    it('gives every value the canonical form of its logical kind, and null only in nullable columns', async () => {
      for (const f of SOURCE_FIXTURE) {
        const t = table(f.name);
        for (const b of await collectBatches(src, t, { batchSize: 4 })) {
          b.columns.forEach((c: BatchColumn, i) => {
            const def = t.columns.find((x) => x.name === c.name)!;
            expect(c.logicalType).toEqual(def.logicalType);
            expect(c.declaredType).toBe(def.declaredType);
            expect(c.encoding.length).toBeGreaterThan(0);
            for (const v of b.values[i]!) {
              if (v === null) expect(def.nullable, `${f.name}.${c.name} null`).toBe(true);
              else expect(CANONICAL[c.logicalType.kind](v), `${f.name}.${c.name} = ${typeof v}`).toBe(true);
            }
          });
        }
      }
    });

    it('reads a table without a primary key completely, with a null lastKey, and resumes by offset', async () => {
      const t = table('notes');
      const batches = await collectBatches(src, t, { batchSize: 3 });
      expect(batches.map((b) => b.rowCount)).toEqual([3, 1]);
      expect(batches.map((b) => b.offset)).toEqual([0, 3]);
      expect(batches.map((b) => b.lastKey)).toEqual([null, null]);
      const rows = asComparable(batchRows(batches));
      expect(sortedForm(rows)).toEqual(sortedForm(expectedRows('notes')));
      // Same order on a second read, so an offset is a meaningful resume point.
      const again = await collectBatches(src, t, { batchSize: 2, offset: 2 });
      expect(again.map((b) => b.offset)).toEqual([2]);
      expect(asComparable(batchRows(again))).toEqual(rows.slice(2));
    });

    it('yields no batch for an empty table', async () => {
      expect(await collectBatches(src, table('empty_table'), { batchSize: 3 })).toEqual([]);
    });

    it('can stop after the first batch and keep working', async () => {
      for await (const b of src.readBatches(table('customers'), { batchSize: 2 })) {
        expect(b.rowCount).toBe(2);
        break;
      }
      expect(await src.countRows(table('orders'))).toBe(6);
    });

    it('fails with a Sensei error naming the table when it does not exist', async () => {
      const ghost: TableDef = { ...table('customers'), name: 'no_such_table' };
      const read = collectBatches(src, ghost);
      await expect(read).rejects.toSatisfy((e: unknown) => isSenseiError(e) && /no_such_table/.test((e as Error).message));
      await expect(src.countRows(ghost)).rejects.toSatisfy(
        (e: unknown) => isSenseiError(e) && /no_such_table/.test((e as Error).message),
      );
    });
  });
}
