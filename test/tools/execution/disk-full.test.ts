// A target that runs out of disk space: the run stops with a clear, resumable error at a checkpoint, and once there
// is space again the resume loads every row exactly once. The space is real: the target's tables live in a
// tablespace on a 2 MB tmpfs mounted for the test (the test runs as root, as this machine and CI do).
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMapper } from '../../../agents/mapper.js';
import { createSchemaAnalyst } from '../../../agents/schema-analyst.js';
import { isTargetFaultError } from '../../../core/errors.js';
import type { ErrorQueueEntry } from '../../../core/run.js';
import { openSource } from '../../../connectors/open-source.js';
import { openTarget } from '../../../connectors/open-target.js';
import { executePlan, type ExecutePlanDeps } from '../../../tools/execution/execute-plan.js';
import { createPgDatabase, pgExec, pgQuery, PG_ADMIN_URL, type TempDatabase } from '../../fixtures/databases.js';

const id = (name: string): number => Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());

describe('a target that runs out of disk space', () => {
  const mount = join(tmpdir(), `sensei-full-${process.pid}`);
  const tablespace = `sensei_full_${process.pid}`;
  let src: TempDatabase;
  let tgt: TempDatabase;

  beforeAll(async () => {
    mkdirSync(mount, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=2m,mode=0700,uid=${id('postgres')},gid=${id('postgres')}`, 'tmpfs', mount]);
    chownSync(mount, id('postgres'), id('postgres'));
    await pgExec(PG_ADMIN_URL, `CREATE TABLESPACE "${tablespace}" LOCATION '${mount}'`);
    src = await createPgDatabase('sensei_fsrc');
    // About 9 MB of rows: four times what the tablespace holds.
    await pgExec(src.url, `CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL); INSERT INTO notes SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 60000) g;`);
    tgt = await createPgDatabase('sensei_ftgt');
    await pgExec(PG_ADMIN_URL, `ALTER DATABASE "${tgt.name}" SET default_tablespace = "${tablespace}"`);
  }, 120_000);

  afterAll(async () => {
    await src?.drop();
    await tgt?.drop();
    await pgExec(PG_ADMIN_URL, `DROP TABLESPACE IF EXISTS "${tablespace}"`).catch(() => undefined);
    try {
      execFileSync('umount', [mount]);
    } finally {
      rmSync(mount, { recursive: true, force: true });
    }
  });

  it('stops with a disk_full error naming the table and the resume, then resumes once space is freed', async () => {
    const source = await openSource(src.url);
    const target = await openTarget(tgt.url);
    const queued: ErrorQueueEntry[] = [];
    const runId = 'disk-full';
    try {
      const catalog = await createSchemaAnalyst().analyze(source);
      const { plan } = await createMapper().plan({ source: catalog, target, thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 } });
      const deps: ExecutePlanDeps = { runId, source, target, errors: { add: async (_r, e) => void queued.push(...e) }, batchSize: 2_000, checkpointEvery: 4_000, concurrency: 1, retryBackoffMs: 10 };
      const failure = await executePlan(deps, plan, catalog).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isTargetFaultError(failure), String(failure)).toBe(true);
      expect((failure as { kind: string }).kind).toBe('disk_full');
      expect((failure as Error).message).toMatch(/^the target ran out of disk space while loading notes: /);
      expect((failure as { hint: string }).hint).toBe(`free space on the target, then run: sensei resume ${runId} (the load continues from the last checkpoint; nothing is written twice)`);
      // What was committed is whole checkpoints only, and the table holds exactly those rows.
      const cp = await pgQuery<{ r: string }>(tgt.url, `SELECT rows_read::text AS r FROM "_sensei"."checkpoints" WHERE run_id = $1`, [runId]);
      const committed = Number(cp[0]?.r ?? 0);
      expect(committed % 4_000).toBe(0);
      expect(committed).toBeGreaterThan(0);
      expect(committed).toBeLessThan(60_000);
      expect((await pgQuery<{ n: string }>(tgt.url, 'SELECT count(*)::text AS n FROM notes'))[0]!.n).toBe(String(committed));

      execFileSync('mount', ['-o', 'remount,size=64m', mount]);
      const outcomes = await executePlan(deps, plan, catalog);
      expect(outcomes.find((o) => o.source === 'notes')).toMatchObject({ rows_read: 60_000, rows_written: 60_000, rows_errored: 0 });
      expect(queued).toEqual([]);
      const same = await pgQuery<{ n: string; d: string; h: string }>(tgt.url, `SELECT count(*)::text AS n, count(DISTINCT id)::text AS d, md5(string_agg(id || ':' || body, ',' ORDER BY id)) AS h FROM notes`);
      const expected = await pgQuery<{ h: string }>(src.url, `SELECT md5(string_agg(id || ':' || body, ',' ORDER BY id)) AS h FROM notes`);
      expect(same[0]).toEqual({ n: '60000', d: '60000', h: expected[0]!.h });
    } finally {
      await source.close();
      await target.close();
    }
  });
});
