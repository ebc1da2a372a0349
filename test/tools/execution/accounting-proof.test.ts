// The end-of-run proof: every table's source, target and queue counts are checked (all tables at once); a source
// that changed during the load fails the run loudly, naming the table and both counts.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createMapper } from '../../../agents/mapper.js';
import { AccountingError } from '../../../core/errors.js';
import type { ErrorQueueEntry } from '../../../core/run.js';
import { openSource } from '../../../connectors/open-source.js';
import { openTarget } from '../../../connectors/open-target.js';
import { executePlan } from '../../../tools/execution/execute-plan.js';
import { createPgDatabase, tempDir, type TempDatabase } from '../../fixtures/databases.js';

describe('the accounting proof at the end of a run', () => {
  const dir = tempDir('sensei-proof-');
  const targets: TempDatabase[] = [];

  afterAll(async () => {
    for (const t of targets) await t.drop();
    dir.remove();
  });

  async function load(file: string, duringLoad?: (rowsRead: number, table: string) => void) {
    const tgt = await createPgDatabase('sensei_proof');
    targets.push(tgt);
    const source = await openSource(`sqlite://${file}`);
    const target = await openTarget(tgt.url);
    try {
      const catalog = await source.catalog({ withCounts: true });
      const { plan } = await createMapper().plan({ source: catalog, target, thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 } });
      const errors: ErrorQueueEntry[] = [];
      return await executePlan(
        {
          runId: 'run_proof',
          source,
          target,
          errors: { add: async (_run, entries) => void errors.push(...entries), count: async () => ({}) },
          batchSize: 5,
          checkpointEvery: 5,
          concurrency: 2,
          ...(duringLoad ? { onProgress: (p) => duringLoad(p.rowsRead, p.table) } : {}),
        },
        plan,
        catalog,
      );
    } finally {
      await Promise.allSettled([source.close(), target.close()]);
    }
  }

  function sourceFile(name: string): string {
    const file = join(dir.path, name);
    const db = new Database(file);
    db.exec('CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE b (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE c (id INTEGER PRIMARY KEY, v TEXT);');
    for (const t of ['a', 'b', 'c']) {
      const insert = db.prepare(`INSERT INTO ${t} VALUES (?, ?)`);
      for (let i = 1; i <= 30; i++) insert.run(i * 10, `${t}${i}`);
    }
    db.close();
    return file;
  }

  it('proves every table of an undisturbed run', async () => {
    const outcomes = await load(sourceFile('calm.db'));
    expect(outcomes.map((o) => [o.source, o.rows_read, o.rows_written, o.rows_errored])).toEqual([
      ['a', 30, 30, 0],
      ['b', 30, 30, 0],
      ['c', 30, 30, 0],
    ]);
  });

  it('fails loudly when a row appears in the source behind the load, naming the table and both counts', async () => {
    const file = sourceFile('busy.db');
    let inserted = false;
    const error = await load(file, (rowsRead, table) => {
      // Once b's load has passed id 100, a row is added before it: the load never reads it.
      if (!inserted && table === 'b' && rowsRead >= 10) {
        inserted = true;
        const db = new Database(file);
        db.prepare('INSERT INTO b VALUES (5, ?)').run('late');
        db.close();
      }
    }).catch((e: unknown) => e);
    expect(inserted).toBe(true);
    expect(error).toBeInstanceOf(AccountingError);
    expect((error as Error).message).toContain('b: the source holds 31 rows but 30 were read (did the source change during the load?)');
    expect((error as Error).message).not.toMatch(/\ba: |\bc: /);
  });
});
