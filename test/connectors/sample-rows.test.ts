// sampleRows on the real servers and SQLite: about the asked number of rows, spread over the table, converted like reads.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceConnector } from '../../connectors/connector.js';
import { openSource } from '../../connectors/open-source.js';
import { sampleTable } from '../../tools/analysis/sample-table.js';
import { createMysqlDatabase, createPgDatabase, mysqlExec, pgExec, tempDir, type TempDatabase } from '../fixtures/databases.js';

const ROWS = 5000;
const dir = tempDir('sensei-sample-');
let pgDb: TempDatabase;
let myDb: TempDatabase;
const sources: Record<string, SourceConnector> = {};

beforeAll(async () => {
  const file = join(dir.path, 's.db');
  const db = new Database(file);
  db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, code TEXT NOT NULL, price DECIMAL(8,2))');
  const ins = db.prepare('INSERT INTO items VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= ROWS; i++) ins.run(i, `C${i}`, (i % 100) + 0.5);
  })();
  db.close();
  sources.sqlite = await openSource(`sqlite://${file}`);
  pgDb = await createPgDatabase('sensei_sample');
  await pgExec(pgDb.url, `CREATE TABLE items (id int PRIMARY KEY, code text NOT NULL, price numeric(8,2));
    INSERT INTO items SELECT g, 'C' || g, (g % 100) + 0.5 FROM generate_series(1, ${ROWS}) g;`);
  sources.postgres = await openSource(pgDb.url);
  myDb = await createMysqlDatabase('sensei_sample');
  await mysqlExec(myDb.url, `SET SESSION max_recursive_iterations = 100000; CREATE TABLE items (id int PRIMARY KEY, code varchar(20) NOT NULL, price decimal(8,2));
    INSERT INTO items WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${ROWS}) SELECT n, CONCAT('C', n), (n % 100) + 0.5 FROM g;`);
  sources.mysql = await openSource(myDb.url);
}, 120_000);
afterAll(async () => {
  for (const s of Object.values(sources)) await s.close();
  await pgDb?.drop();
  await myDb?.drop();
  dir.remove();
});

describe.each(['sqlite', 'postgres', 'mysql'])('%s sampleRows', (kind) => {
  it('returns about the asked rows from all over the table, with values converted as readBatches converts them', async () => {
    const source = sources[kind]!;
    const table = (await source.catalog({ withCounts: true })).tables.find((t) => t.name === 'items')!;
    const batch = await source.sampleRows!(table, 500);
    expect(batch.rowCount).toBeLessThanOrEqual(500);
    expect(batch.rowCount).toBeGreaterThan(400);
    expect(batch.columns.map((c) => c.name)).toEqual(['id', 'code', 'price']);
    const ids = batch.values[0]!.map(Number);
    expect(new Set(ids).size).toBe(batch.rowCount);
    expect(Math.max(...ids)).toBeGreaterThan(4000); // not just the first rows
    expect(Math.min(...ids)).toBeLessThan(1000);
    let read: unknown[][] = [];
    for await (const b of source.readBatches(table, { batchSize: ROWS })) read = b.values;
    const i = ids[0]! - 1;
    expect([batch.values[0]![0], batch.values[1]![0], batch.values[2]![0]]).toEqual([read[0]![i], read[1]![i], read[2]![i]]);
    // And sampleTable takes this path when the table is larger than the sample.
    const sample = await sampleTable(source, table, 300);
    expect(sample).toMatchObject({ method: 'database-sample', complete: false });
    expect(sample.rows).toBeLessThanOrEqual(300);
  });
});
