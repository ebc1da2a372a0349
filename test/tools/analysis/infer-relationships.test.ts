// Inferred relationships when the referenced table is larger than the sample: measured on the source (SQLite, PostgreSQL, MariaDB).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferredRelationship } from '../../../core/profile.js';
import { openSource } from '../../../connectors/open-source.js';
import { analyzeSource } from '../../../tools/analysis/analyze-source.js';
import { createMysqlDatabase, createPgDatabase, mysqlExec, pgExec, tempDir, type TempDatabase } from '../../fixtures/databases.js';

// customer: 20,000 rows (far above the 1,000-row sample). No foreign key is declared.
// orders.acct_id: every value is a customer (no name evidence: only an identifier-like column and the data say so).
// claim.acct_id: identifier-like too, but only about 10% of its values are customers (the failure path);
// refund.acct_id: 80% are customers, enough to be looked up on the source, too few to be a reference.
const CUSTOMERS = 20_000;
const CHILD_ROWS = 3_000;
const SAMPLE = 1_000;
const orderAcct = (i: number) => 1 + ((i * 7919) % CUSTOMERS);
const claimAcct = (i: number) => 18_001 + ((i * 13) % CUSTOMERS);

const dir = tempDir('sensei-infer-rel-');
const sqlitePath = join(dir.path, 'legacy.db');
let pgDb: TempDatabase;
let myDb: TempDatabase;

function seedSql(range: (n: number) => string): string {
  return [
    `INSERT INTO customer SELECT g, 'Customer ' || g FROM ${range(CUSTOMERS)}`,
    `INSERT INTO orders SELECT g, 1 + ((g * 7919) % ${CUSTOMERS}) FROM ${range(CHILD_ROWS)}`,
    `INSERT INTO claim SELECT g, 18001 + ((g * 13) % ${CUSTOMERS}) FROM ${range(CHILD_ROWS)}`,
    `INSERT INTO refund SELECT g, 4001 + ((g * 13) % ${CUSTOMERS}) FROM ${range(CHILD_ROWS)}`,
  ].join(';\n');
}
const DDL = `CREATE TABLE customer (cust_no integer PRIMARY KEY, name varchar(40) NOT NULL);
CREATE TABLE orders (order_id integer PRIMARY KEY, acct_id integer NOT NULL);
CREATE TABLE claim (claim_id integer PRIMARY KEY, acct_id integer NOT NULL);
CREATE TABLE refund (refund_id integer PRIMARY KEY, acct_id integer NOT NULL)`;

beforeAll(async () => {
  const db = new Database(sqlitePath);
  db.exec(DDL);
  db.exec(seedSql((n) => `(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ${n}) SELECT g FROM s)`));
  db.close();
  pgDb = await createPgDatabase('sensei_rel');
  await pgExec(pgDb.url, `${DDL};\n${seedSql((n) => `generate_series(1, ${n}) AS t(g)`)}; ANALYZE`);
  myDb = await createMysqlDatabase('sensei_rel');
  await mysqlExec(
    myDb.url,
    `${DDL};\n${seedSql((n) => `(SELECT seq AS g FROM mysql.seq_1_to_${n}) AS s`).replace(/'Customer ' \|\| g/, "CONCAT('Customer ', g)")}; ANALYZE TABLE customer, orders, claim, refund`,
  );
}, 120_000);

afterAll(async () => {
  dir.remove();
  await pgDb?.drop();
  await myDb?.drop();
});

const BACKENDS = ['SQLite', 'PostgreSQL', 'MariaDB'] as const;
const urlOf = (backend: (typeof BACKENDS)[number]): string =>
  backend === 'SQLite' ? `sqlite://${sqlitePath}` : backend === 'PostgreSQL' ? pgDb.url : myDb.url;

async function relationshipsOf(url: string, sampleRows: number): Promise<{ rels: InferredRelationship[]; methods: Map<string, string> }> {
  const source = await openSource(url);
  try {
    const report = await analyzeSource(source, { sampleRows });
    return { rels: report.catalog.relationships ?? [], methods: new Map(report.samples.map((s) => [s.table, s.method])) };
  } finally {
    await source.close();
  }
}

describe('inferred relationships against a key table larger than the sample', () => {
  it.each(BACKENDS)('finds the reference on the source and rejects the mostly-dangling column (%s)', async (backend) => {
    const url = urlOf(backend);
    const { rels, methods } = await relationshipsOf(url, SAMPLE);
    expect(methods.get('customer'), backend).not.toBe('whole-table');
    const fromOrders = rels.filter((r) => r.table === 'orders');
    expect(fromOrders, backend).toEqual([
      {
        table: 'orders',
        columns: ['acct_id'],
        refTable: 'customer',
        refColumns: ['cust_no'],
        confidence: 0.55,
        evidence: expect.stringMatching(/^identifier-like column; inclusion 100% of (\d+) of \1 distinct values, looked up in customer\.cust_no on the source/),
      },
    ]);
    // Only ~10% of claim.acct_id and 80% of refund.acct_id are customers: no relationship for either.
    expect(rels.filter((r) => r.table === 'claim' || r.table === 'refund'), backend).toEqual([]);
  }, 120_000);

  it.each(BACKENDS)('reads whole tables as before when they fit in the sample (%s)', async (backend) => {
    const url = urlOf(backend);
    const { rels, methods } = await relationshipsOf(url, CUSTOMERS);
    expect(methods.get('customer'), backend).toBe('whole-table');
    expect(rels.filter((r) => r.table === 'orders'), backend).toEqual([
      {
        table: 'orders',
        columns: ['acct_id'],
        refTable: 'customer',
        refColumns: ['cust_no'],
        confidence: 0.55,
        evidence: `identifier-like column; inclusion 100% of ${new Set(Array.from({ length: CHILD_ROWS }, (_, g) => orderAcct(g + 1))).size} distinct values in customer.cust_no`,
      },
    ]);
    expect(rels.filter((r) => r.table === 'claim' || r.table === 'refund'), backend).toEqual([]);
  }, 120_000);

  it.each(BACKENDS)('countMatches counts the values present in a column with one bounded query (%s)', async (backend) => {
    const url = urlOf(backend);
    const source = await openSource(url);
    try {
      const catalog = await source.catalog();
      const customer = catalog.tables.find((t) => t.name === 'customer')!;
      expect(await source.countMatches!(customer, 'cust_no', [1, 2, 20_000, 20_001, 99_999, 2]), backend).toBe(3);
      expect(await source.countMatches!(customer, 'name', ['Customer 7', 'customer x', "O'Brien"]), backend).toBe(1);
      expect(await source.countMatches!(customer, 'cust_no', []), backend).toBe(0);
      // The values of the failure-path column really are mostly outside the key.
      const claimValues = Array.from({ length: 1000 }, (_, g) => claimAcct(g + 1));
      expect(await source.countMatches!(customer, 'cust_no', claimValues), backend).toBeLessThan(200);
    } finally {
      await source.close();
    }
  }, 60_000);
});
