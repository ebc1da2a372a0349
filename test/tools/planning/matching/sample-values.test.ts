// Value samples for matching, read from real databases: SQLite through the source connector, PGlite as a target.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSource } from '../../../../connectors/open-source.js';
import { openTarget } from '../../../../connectors/open-target.js';
import { sampleSource, sampleTarget } from '../../../../tools/planning/matching/sample-values.js';
import { tempDir } from '../../../fixtures/databases.js';

const dir = tempDir('sensei-sample-');
afterAll(() => dir.remove());

describe('sample values', () => {
  it('reads at most N rows per source table, distinct, as text, without NULLs', async () => {
    const file = join(dir.path, 's.db');
    const db = new Database(file);
    db.exec(`CREATE TABLE T (ID INTEGER PRIMARY KEY, FLG CHAR(1), AMT NUMERIC); INSERT INTO T VALUES (1, 'Y', 1.5), (2, 'N', NULL), (3, 'Y', 2), (4, 'N', 7);`);
    db.close();
    const source = await openSource(`sqlite://${file}`);
    try {
      const samples = await sampleSource(source, await source.catalog(), 3);
      expect(samples.get('T.ID')).toEqual(['1', '2', '3']);
      expect(samples.get('T.FLG')).toEqual(['Y', 'N']);
      expect(samples.get('T.AMT')).toEqual(['1.5', '2']);
    } finally {
      await source.close();
    }
  });

  it('reads target tables that hold data as text and skips empty ones', async () => {
    const target = await openTarget('pglite://memory');
    try {
      await target.query(`CREATE TABLE "1weird" ("2" integer, "b c" date); INSERT INTO "1weird" VALUES (5, '2024-01-31'), (5, NULL); CREATE TABLE empty (x text);`);
      const samples = await sampleTarget(target, await target.catalog());
      expect([...samples.entries()]).toEqual([
        ['1weird.2', ['5']],
        ['1weird.b c', ['2024-01-31']],
      ]);
    } finally {
      await target.close();
    }
  });
});
