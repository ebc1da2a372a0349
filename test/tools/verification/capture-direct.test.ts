// The capture's direct path (clean batches COPYed into a table typed as the target, hashed without evaluating the
// transformations) must capture exactly what the evaluated path captures: digests, roots, statistics and counts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMapper } from '../../../agents/mapper.js';
import type { Catalog } from '../../../core/catalog.js';
import type { Plan } from '../../../core/plan.js';
import type { SourceConnector, TargetConnector } from '../../../connectors/connector.js';
import { openSource } from '../../../connectors/open-source.js';
import { openTarget } from '../../../connectors/open-target.js';
import { captureSource, type CaptureDeps, type TableCapture } from '../../../tools/verification/capture-source.js';
import { detailRows, readableCapture } from '../../fixtures/capture-detail.js';
import { createPgDatabase, pgExec, pgQuery, tempDir, type TempDatabase } from '../../fixtures/databases.js';

describe('capture through the direct path', () => {
  const dir = tempDir('sensei-capture-direct-');
  const sqlite = join(dir.path, 'shop.sqlite');
  let tgt: TempDatabase;
  let source: SourceConnector;
  let target: TargetConnector;
  let catalog: Catalog;
  let plan: Plan;
  const made: TableCapture[] = [];

  beforeAll(async () => {
    const db = new Database(sqlite);
    db.exec(`CREATE TABLE item (id INTEGER PRIMARY KEY, code CHAR(4), name VARCHAR(10) NOT NULL, born DATE, qty INTEGER, price DECIMAL(6,2),
               seen TIMESTAMP, ratio DOUBLE, flag BOOLEAN, note TEXT);
             CREATE TABLE tag (label TEXT, weight INTEGER);
             CREATE TABLE memo (id INTEGER PRIMARY KEY, body TEXT);
             INSERT INTO memo VALUES (1, 'fine'), (2, CAST(x'41ff42' AS TEXT)), (3, 'also fine');`);
    const insert = db.prepare('INSERT INTO item VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const notes = ['tab\there', 'back\\slash', 'new\nline', 'été “x” 日本 😀', '', null];
    for (let i = 1; i <= 42; i++) {
      insert.run(
        i,
        i % 5 === 0 ? null : `c${i}`,
        `name ${i}`,
        i % 9 === 0 ? null : `20${String(10 + (i % 15))}-0${1 + (i % 9)}-${String(1 + (i % 28)).padStart(2, '0')}`,
        i * 3,
        i % 4 === 0 ? `${i}.5` : `${i}.25`,
        `2020-03-0${1 + (i % 9)} 10:${String(i).padStart(2, '0')}:00${i % 2 === 0 ? '.5' : ''}`,
        i % 3 === 0 ? i / 7 : i * 1e-7,
        i % 2,
        notes[i % notes.length],
      );
    }
    // Bad rows, each in its own batch of 7 (ids 8–14, 15–21, 22–28, 29–35): an impossible time of day that passes the
    // timestamp_format rule and Node's check but not the timestamp input function, a quantity that is not a number (the rule
    // fails), a NUL byte (left out before any path), a name too long for varchar(10) (the rule fails).
    db.prepare('UPDATE item SET seen = ? WHERE id = 10').run('2021-02-03 25:00:00');
    db.prepare('UPDATE item SET qty = ? WHERE id = 17').run('abc');
    db.prepare(`UPDATE item SET note = 'nul' || char(0) || 'byte' WHERE id = 24`).run();
    db.prepare('UPDATE item SET name = ? WHERE id = 31').run('much too long');
    db.exec(`INSERT INTO tag VALUES ('a', 1), ('b', 2), ('a', 1), (NULL, 3)`);
    db.close();
    tgt = await createPgDatabase('sensei_capdirect');
    source = await openSource(`sqlite://${sqlite}`);
    target = await openTarget(tgt.url);
    catalog = await source.catalog({ withCounts: true });
    plan = (await createMapper().plan({ source: catalog, target, thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 } })).plan;
    // A transformation that is not a plain cast: the table has no direct path and is evaluated.
    plan = {
      ...plan,
      tables: plan.tables.map((t) => (t.source === 'tag' ? { ...t, columns: t.columns.map((c) => (c.sourceColumn === 'label' ? { ...c, transformation: 'upper(src."label")' } : c)) } : t)),
    };
  }, 60_000);

  afterAll(async () => {
    for (const t of made) t.detail.release();
    await source?.close();
    await target?.close();
    await tgt?.drop();
    dir.remove();
  });

  const capture = async (options: Partial<CaptureDeps>): Promise<{ tables: TableCapture[]; paths: Array<[string, string, string | null]> }> => {
    const paths: Array<[string, string, string | null]> = [];
    const { tables } = await captureSource({ source, target, batchSize: 7, onPath: (t, p, why) => paths.push([t, p, why]), ...options }, plan, catalog);
    made.push(...tables);
    return { tables, paths };
  };

  it('captures the same digests, roots, statistics, detail and counts as the evaluated path, with the clean batches direct', async () => {
    const evaluated = await capture({ directCopy: false, concurrency: 1 });
    const direct = await capture({});
    // Whole captures, detail (key and row hash of every row, per bucket, in read order) included.
    expect(await readableCapture(direct.tables)).toEqual(await readableCapture(evaluated.tables));
    const item = direct.tables.find((t) => t.source === 'item')!;
    expect([item.rowsRead, item.rowsExpected, item.rowsExcluded]).toEqual([42, 38, 4]);
    expect((await detailRows(item.detail)).map(([key]) => key)).not.toContain('["10"]');
    expect(item.stats.find((s) => s.column === 'price')).toMatchObject({ kind: 'numeric', rows: 38, nulls: 0, min: '1.25', max: '42.25' });

    expect(evaluated.paths.every(([, p, why]) => p === 'staged' && (why === 'strategy.direct_copy is false'))).toBe(true);
    const itemPaths = direct.paths.filter(([t]) => t === 'item').map(([, p, why]) => `${p}${why ? `: ${why}` : ''}`);
    // Batches merge in read order but may finish in any order: compare as sets of what happened.
    expect(itemPaths.sort()).toEqual(
      [
        'direct',
        'direct',
        'direct',
        'staged: a value of row 17 (in read order) needs its rule checked in SQL',
        'staged: a value of row 31 (in read order) needs its rule checked in SQL',
        'staged: the target refused the typed COPY (SQLSTATE 22008)',
      ].sort(),
    );
    expect(direct.paths.filter(([t]) => t === 'tag')).toEqual([['tag', 'staged', 'tag.label → label: transformation is not a plain cast']]);
    // A row the source refuses as it reads it (invalid UTF-8: execution queues it) is not expected in the target.
    const memo = direct.tables.find((t) => t.source === 'memo')!;
    expect([memo.rowsRead, memo.rowsExpected, memo.rowsExcluded]).toEqual([3, 2, 1]);
    expect((await detailRows(memo.detail)).map(([key]) => key).sort()).toEqual(['["1"]', '["3"]']);
  });

  it('hashes a direct batch as the target will hold it: the row digests equal those of the loaded rows', async () => {
    const { tables } = await capture({});
    const item = tables.find((t) => t.source === 'item')!;
    await pgQuery(tgt.url, `CREATE TABLE item_check (${item.shape.columns.map((c) => `"${c.name}" ${c.type}`).join(', ')})`);
    await pgQuery(
      tgt.url,
      `INSERT INTO item_check VALUES (1, 'c1', 'name 1', '2011-02-02', 3, 1.25, '2020-03-02 10:01:00', 1e-7, true, 'back\\slash')`,
    );
    const [row] = await pgQuery<{ h: string }>(tgt.url, 'SELECT md5(ROW(t.*)::text) AS h FROM item_check AS t');
    const captured = (await detailRows(item.detail)).find(([key]) => key === '["1"]');
    expect(captured?.[1]).toBe(row!.h);
  });

  it('fails naming the table when a statement times out, instead of counting its rows as excluded', async () => {
    // The evaluated path (tag has no direct path) sleeps a second per row; the target allows half a second.
    const slow: Plan = {
      ...plan,
      tables: plan.tables
        .filter((t) => t.source === 'item' || t.source === 'tag')
        .map((t) => (t.source === 'item' ? t : { ...t, columns: t.columns.map((c) => (c.sourceColumn === 'label' ? { ...c, transformation: 'concat(src."label", pg_sleep(1))' } : c)) })),
    };
    expect(slow.tables.map((t) => t.source)).toEqual(['item', 'tag']);
    await pgExec(tgt.url, `ALTER DATABASE "${tgt.name}" SET statement_timeout = '500ms'`);
    const impatient = await openTarget(tgt.url);
    const spill = tempDir('sensei-capture-spill-');
    const spilled: number[] = [];
    try {
      // item is captured (its detail spilled) before tag fails: the failed capture removes its spill directory.
      await expect(captureSource({ source, target: impatient, batchSize: 7, spillDir: spill.path, onTable: async () => void spilled.push(readdirSync(spill.path).length) }, slow, catalog)).rejects.toMatchObject({
        code: 'TARGET_FAULT',
        kind: 'timeout',
        message: expect.stringContaining('a statement timed out on the target while capturing tag: canceling statement due to statement timeout'),
        hint: expect.stringContaining('raise statement_timeout'),
      });
      expect(spilled).toEqual([1]);
      expect(readdirSync(spill.path)).toEqual([]);
    } finally {
      spill.remove();
      await impatient.close();
      await pgExec(tgt.url, `ALTER DATABASE "${tgt.name}" RESET statement_timeout`);
    }
  });

  it('stops at the first table whose onTable fails, and says so, leaving no spilled detail behind', async () => {
    const seen: string[] = [];
    const spill = tempDir('sensei-capture-spill-');
    try {
      await expect(
        capture({
          spillDir: spill.path,
          onTable: async (t) => {
            seen.push(t.source);
            expect(readdirSync(spill.path)).toHaveLength(1);
            throw new Error(`store refused ${t.source}`);
          },
        }),
      ).rejects.toThrow(`store refused ${plan.tables[0]!.source}`);
      expect(seen).toEqual([plan.tables[0]!.source]);
      expect(readdirSync(spill.path)).toEqual([]);
    } finally {
      spill.remove();
    }
  });

  it("spills each table's detail under spillDir until the capture is released", async () => {
    const spill = tempDir('sensei-capture-spill-');
    try {
      const { tables } = await capture({ spillDir: spill.path });
      // One private directory per table with rows (item, tag, memo), the detail in it encrypted.
      expect(readdirSync(spill.path)).toHaveLength(tables.filter((t) => t.rowsExpected > 0).length);
      expect(tables.filter((t) => t.rowsExpected > 0)).toHaveLength(3);
      const item = tables.find((t) => t.source === 'item')!;
      expect((await detailRows(item.detail)).map(([key]) => key)).toContain('["12"]');
      expect(readFileSync(item.detail.spillFile!).includes('["12"]')).toBe(false);
      for (const t of tables) t.detail.release();
      expect(readdirSync(spill.path)).toEqual([]);
    } finally {
      spill.remove();
    }
  });
});
