// Stops that a resume must respect, against the real PostgreSQL: the error policy's count carries over a resume, and
// a statement timeout on the target stops the run with a clear, resumable error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMapper } from '../../../agents/mapper.js';
import { createSchemaAnalyst } from '../../../agents/schema-analyst.js';
import { isErrorPolicyError, isTargetFaultError } from '../../../core/errors.js';
import type { ErrorSink } from '../../../core/run.js';
import type { SourceConnector, TargetConnector } from '../../../connectors/connector.js';
import { openSource } from '../../../connectors/open-source.js';
import { openTarget } from '../../../connectors/open-target.js';
import { executePlan, type ExecutePlanDeps } from '../../../tools/execution/execute-plan.js';
import { openStore, type SenseiStore } from '../../../tools/store/sensei-store.js';
import { createPgDatabase, pgExec, pgQuery, PG_ADMIN_URL, tempDir, type TempDatabase } from '../../fixtures/databases.js';

async function plannedRun(source: SourceConnector, target: TargetConnector) {
  const catalog = await createSchemaAnalyst().analyze(source);
  const { plan } = await createMapper().plan({ source: catalog, target, thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 } });
  return { catalog, plan };
}

async function committed(url: string, runId: string): Promise<{ read: number; errored: number }> {
  const r = await pgQuery<{ r: string | null; e: string | null }>(url, 'SELECT sum(rows_read)::text AS r, sum(rows_errored)::text AS e FROM "_sensei"."checkpoints" WHERE run_id = $1', [runId]);
  return { read: Number(r[0]?.r ?? 0), errored: Number(r[0]?.e ?? 0) };
}

const failureOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => null,
    (e: unknown) => e,
  );

describe('stops that survive a resume', () => {
  const dir = tempDir('sensei-stops-');
  let store: SenseiStore;
  let errors: ErrorSink;
  let src: TempDatabase;
  const targets: TempDatabase[] = [];

  beforeAll(async () => {
    store = await openStore({ home: dir.path });
    errors = {
      add: async (runId, entries) => void (await store.addErrors(runId, entries)),
      clear: async (runId, table) => void (await store.clearErrors(runId, table)),
      count: (runId) => store.countErrors(runId),
    };
    src = await createPgDatabase('sensei_ssrc');
    // One row in every hundred (ids 50, 150, …) breaks the target's CHECK: one queued row per 100-row segment.
    await pgExec(src.url, `CREATE TABLE flaky (id int PRIMARY KEY, v int NOT NULL); INSERT INTO flaky SELECT g, CASE WHEN g % 100 = 50 THEN 0 ELSE g END FROM generate_series(1, 1000) g;`);
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await src?.drop();
    for (const t of targets) await t.drop();
    dir.remove();
  });

  async function target(ddl: string): Promise<TempDatabase> {
    const t = await createPgDatabase('sensei_stgt');
    targets.push(t);
    await pgExec(t.url, ddl);
    return t;
  }

  it('counts the rows queued before a stop when the run resumes, so stop_after holds over the whole run', async () => {
    const tgt = await target('CREATE TABLE flaky (id int PRIMARY KEY, v int NOT NULL CHECK (v <> 0))');
    const source = await openSource(src.url);
    const t = await openTarget(tgt.url);
    const runId = 'stops-policy';
    await store.createRun({ id: runId, status: 'running', stage: 'execute', config: {} });
    try {
      const { catalog, plan } = await plannedRun(source, t);
      const deps: ExecutePlanDeps = { runId, source, target: t, errors, batchSize: 50, checkpointEvery: 100, errorPolicy: { stop_after: 3 }, concurrency: 1 };
      const first = await failureOf(executePlan(deps, plan, catalog));
      expect(isErrorPolicyError(first), String(first)).toBe(true);
      expect((first as Error).message).toContain('4 row(s) were queued');
      expect(await committed(tgt.url, runId)).toEqual({ read: 400, errored: 4 });

      // Same policy on resume: the 4 rows already queued count, so the very next queued row stops it again.
      const second = await failureOf(executePlan(deps, plan, catalog));
      expect(isErrorPolicyError(second), String(second)).toBe(true);
      expect((second as Error).message).toContain('5 row(s) were queued');
      expect(await committed(tgt.url, runId)).toEqual({ read: 500, errored: 5 });

      const outcomes = await executePlan({ ...deps, errorPolicy: { stop_after: 10 } }, plan, catalog);
      expect(outcomes.find((o) => o.source === 'flaky')).toMatchObject({ rows_read: 1000, rows_written: 990, rows_errored: 10 });
      expect(await store.countErrors(runId)).toEqual({ flaky: 10 });
      const rows = await pgQuery<{ n: string; d: string }>(tgt.url, 'SELECT count(*) AS n, count(DISTINCT id) AS d FROM flaky');
      expect(rows[0]).toEqual({ n: '990', d: '990' });
    } finally {
      await source.close();
      await t.close();
    }
  });

  it('stops with a clear, resumable error when a statement times out on the target, and resumes from the checkpoint', async () => {
    // Once 200 rows are in, every INSERT into flaky stalls longer than the database's statement_timeout.
    const tgt = await target(
      `CREATE TABLE flaky (id int PRIMARY KEY, v int NOT NULL);
       CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF (SELECT count(*) FROM flaky) >= 200 THEN PERFORM pg_sleep(30); END IF; RETURN NULL; END $$;
       CREATE TRIGGER stall BEFORE INSERT ON flaky FOR EACH STATEMENT EXECUTE FUNCTION stall();`,
    );
    await pgExec(PG_ADMIN_URL, `ALTER DATABASE "${tgt.name}" SET statement_timeout = '3s'`);
    const source = await openSource(src.url);
    const runId = 'stops-timeout';
    await store.createRun({ id: runId, status: 'running', stage: 'execute', config: {} });
    const t = await openTarget(tgt.url);
    const { catalog, plan } = await plannedRun(source, t);
    // One range at a time: with concurrent key ranges, how many rows commit before the stall depends on timing.
    const deps: ExecutePlanDeps = { runId, source, target: t, errors, batchSize: 50, checkpointEvery: 100, retryBackoffMs: 10, concurrency: 1 };
    try {
      const failure = await failureOf(executePlan(deps, plan, catalog));
      expect(isTargetFaultError(failure), String(failure)).toBe(true);
      expect((failure as { kind: string }).kind).toBe('timeout');
      expect((failure as Error).message).toMatch(/statement timed out on the target while loading flaky/);
      expect((failure as { hint: string }).hint).toContain(`sensei resume ${runId}`);
      expect(await committed(tgt.url, runId)).toEqual({ read: 200, errored: 0 });
    } finally {
      await t.close();
    }
    await pgExec(tgt.url, 'DROP TRIGGER stall ON flaky');
    await pgExec(PG_ADMIN_URL, `ALTER DATABASE "${tgt.name}" RESET statement_timeout`);
    const again = await openTarget(tgt.url);
    try {
      const outcomes = await executePlan({ ...deps, target: again }, plan, catalog);
      expect(outcomes.find((o) => o.source === 'flaky')).toMatchObject({ rows_read: 1000, rows_written: 1000, rows_errored: 0 });
      const rows = await pgQuery<{ n: string; d: string }>(tgt.url, 'SELECT count(*) AS n, count(DISTINCT id) AS d FROM flaky');
      expect(rows[0]).toEqual({ n: '1000', d: '1000' });
    } finally {
      await source.close();
      await again.close();
    }
  });
});
