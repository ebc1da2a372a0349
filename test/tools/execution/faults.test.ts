// Faults during execution, against the real servers: a target connection killed mid-batch (retried), a source that
// disappears (clean stop, resumable), and an error policy that stops the run (resumable, a keyless table reloaded).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMapper } from '../../../agents/mapper.js';
import { createSchemaAnalyst } from '../../../agents/schema-analyst.js';
import { isErrorPolicyError, isSourceUnavailableError } from '../../../core/errors.js';
import type { ErrorSink, RetryNotice } from '../../../core/run.js';
import type { SourceConnector, TargetConnector } from '../../../connectors/connector.js';
import { openSource } from '../../../connectors/open-source.js';
import { openTarget } from '../../../connectors/open-target.js';
import { executePlan, type ExecutePlanDeps } from '../../../tools/execution/execute-plan.js';
import { openStore, type SenseiStore } from '../../../tools/store/sensei-store.js';
import { createPgDatabase, pgExec, pgQuery, PG_ADMIN_URL, tempDir, type TempDatabase } from '../../fixtures/databases.js';
import { homeWithStore } from '../../fixtures/store-template.js';

const ROWS = 3000;

async function plannedRun(source: SourceConnector, target: TargetConnector) {
  const catalog = await createSchemaAnalyst().analyze(source);
  const { plan } = await createMapper().plan({ source: catalog, target, thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 } });
  return { catalog, plan };
}

const terminate = (db: string) =>
  pgQuery(PG_ADMIN_URL, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db]);

async function committedRows(url: string, runId: string): Promise<number> {
  try {
    const r = await pgQuery<{ n: string | null }>(url, 'SELECT sum(rows_read)::text AS n FROM "_sensei"."checkpoints" WHERE run_id = $1', [runId]);
    return Number(r[0]?.n ?? 0);
  } catch {
    return 0;
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Holds the source's reads once `at[i]` rows have been read (all tables together) until the test releases stop i: the
 * loads then wait inside their open segment transactions, so a fault the test causes meanwhile lands mid-load whatever
 * the machine's speed. The source and its server stay real; only the reader waits.
 */
function gateReads(source: SourceConnector, at: number[]) {
  const reached = at.map(() => deferred());
  const released = at.map(() => deferred());
  const passed = at.map(() => false);
  let read = 0;
  const readBatches = source.readBatches.bind(source);
  source.readBatches = (table, options) =>
    (async function* () {
      for await (const batch of readBatches(table, options)) {
        read += batch.rowCount;
        for (let i = 0; i < at.length; i++) {
          if (passed[i] || read < at[i]!) continue;
          reached[i]!.resolve();
          await released[i]!.promise;
        }
        yield batch;
      }
    })();
  return {
    reached: (i: number) => reached[i]!.promise,
    release: (i: number) => {
      passed[i] = true;
      released[i]!.resolve();
    },
  };
}

/** `step`, failing the test if the run ends first (then the fault could not land mid-load). */
function beforeEnd<T>(running: Promise<unknown>, step: Promise<T>): Promise<T> {
  return Promise.race([step, running.then(() => Promise.reject(new Error('the run ended before the reads were held: the fault did not land mid-load')))]);
}

describe('execution faults', () => {
  const dir = tempDir('sensei-faults-');
  let store: SenseiStore;
  let errors: ErrorSink;
  let src: TempDatabase;
  let tgt: TempDatabase;

  beforeAll(async () => {
    store = await openStore({ home: homeWithStore(dir.path) });
    errors = {
      add: async (runId, entries) => void (await store.addErrors(runId, entries)),
      clear: async (runId, table) => void (await store.clearErrors(runId, table)),
      count: (runId) => store.countErrors(runId),
    };
    src = await createPgDatabase('sensei_fsrc');
    await pgExec(
      src.url,
      `CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL);
       INSERT INTO item SELECT g, 'item ' || g FROM generate_series(1, ${ROWS}) g;
       CREATE TABLE note (body text);
       INSERT INTO note VALUES ('bad');
       INSERT INTO note SELECT 'note ' || (g % 50) FROM generate_series(1, 400) g;
       INSERT INTO note VALUES ('tail');`,
    );
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await src?.drop();
    await tgt?.drop();
    dir.remove();
  });

  async function freshTarget(): Promise<{ source: SourceConnector; target: TargetConnector }> {
    await tgt?.drop();
    tgt = await createPgDatabase('sensei_ftgt');
    // An existing target whose CHECK rejects one source row: a write-time failure in a table without a key.
    await pgExec(tgt.url, "CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL); CREATE TABLE note (body text CHECK (body <> 'bad'))");
    return { source: await openSource(src.url), target: await openTarget(tgt.url) };
  }

  async function expectExactCopy(): Promise<void> {
    const r = await pgQuery<{ n: string; d: string; lo: string; hi: string }>(tgt.url, 'SELECT count(*) AS n, count(DISTINCT id) AS d, min(id)::text AS lo, max(id)::text AS hi FROM item');
    expect(r[0]).toEqual({ n: String(ROWS), d: String(ROWS), lo: '1', hi: String(ROWS) });
  }

  it('retries a segment when the target connection is killed mid-load, losing and doubling nothing', async () => {
    const { source, target } = await freshTarget();
    const { catalog, plan } = await plannedRun(source, target);
    const runId = 'faults-target';
    await store.createRun({ id: runId, status: 'running', stage: 'execute', config: {} });
    const retries: RetryNotice[] = [];
    const deps: ExecutePlanDeps = { runId, source, target, errors, batchSize: 50, checkpointEvery: 100, retryBackoffMs: 20, onRetry: (n) => retries.push(n) };
    // Twice: once early, once more than half-way through.
    const gate = gateReads(source, [500, 1800]);
    try {
      const running = executePlan(deps, plan, catalog);
      for (const stop of [0, 1]) {
        await beforeEnd(running, gate.reached(stop));
        await terminate(tgt.name);
        gate.release(stop);
      }
      const outcomes = await running;
      // Every load held its segment transaction open on a killed connection: each failed and was retried.
      expect(retries.length).toBeGreaterThanOrEqual(2);
      // Each retry is told what failed (the driver's code, never its message), which retry of how many, and when.
      for (const n of retries) {
        expect(['item', 'note']).toContain(n.table);
        expect(n.reason).toMatch(/^lost the target connection \(([0-9A-Z_]+|no error code)\)$/);
        expect(n.of).toBe(5);
        expect(n.attempt).toBeGreaterThanOrEqual(1);
        expect(n.inMs).toBeGreaterThanOrEqual(10 * 2 ** (n.attempt - 1));
        expect(n.inMs).toBeLessThanOrEqual(20 * 2 ** (n.attempt - 1));
      }
      expect(outcomes.find((o) => o.source === 'item')).toMatchObject({ rows_read: ROWS, rows_written: ROWS, rows_errored: 0 });
      await expectExactCopy();
    } finally {
      await source.close();
      await target.close();
    }
  });

  it('stops cleanly when the source disappears, and resumes from the checkpoint once it is back', async () => {
    const { source, target } = await freshTarget();
    const { catalog, plan } = await plannedRun(source, target);
    const runId = 'faults-source';
    await store.createRun({ id: runId, status: 'running', stage: 'execute', config: {} });
    const deps: ExecutePlanDeps = { runId, source, target, errors, batchSize: 50, checkpointEvery: 100, maxRetries: 1, retryBackoffMs: 10 };
    let stoppedAt = 0;
    const gate = gateReads(source, [600]);
    try {
      const running = executePlan(deps, plan, catalog);
      await beforeEnd(running, gate.reached(0));
      await pgExec(PG_ADMIN_URL, `ALTER DATABASE "${src.name}" WITH ALLOW_CONNECTIONS false`);
      await terminate(src.name);
      gate.release(0);
      const failure = await running.then(
        () => null,
        (e: unknown) => e,
      );
      expect(isSourceUnavailableError(failure), String(failure)).toBe(true);
      expect((failure as Error).message).toMatch(/source stopped answering while (item|note) was read/);
      expect((failure as { hint: string }).hint).toContain(`sensei resume ${runId}`);
      stoppedAt = await committedRows(tgt.url, runId);
      // Stopped part-way, at a checkpoint (no row was read after the 600th): the resume below has rows left to load.
      expect(stoppedAt).toBeGreaterThan(0);
      expect(stoppedAt).toBeLessThanOrEqual(600);
    } finally {
      await pgExec(PG_ADMIN_URL, `ALTER DATABASE "${src.name}" WITH ALLOW_CONNECTIONS true`);
      await source.close();
    }
    const again = await openSource(src.url);
    try {
      const outcomes = await executePlan({ ...deps, source: again }, plan, catalog);
      expect(outcomes.find((o) => o.source === 'item')).toMatchObject({ rows_read: ROWS, rows_written: ROWS });
      await expectExactCopy();
    } finally {
      await again.close();
      await target.close();
    }
  });

  it('stops at a checkpoint when the error policy says so; the resumed run reloads the keyless table whole', async () => {
    const { source, target } = await freshTarget();
    const { catalog, plan } = await plannedRun(source, target);
    const runId = 'faults-policy';
    await store.createRun({ id: runId, status: 'running', stage: 'execute', config: {} });
    const deps: ExecutePlanDeps = { runId, source, target, errors, batchSize: 100, checkpointEvery: 200, errorPolicy: 'stop_on_first', concurrency: 1 };
    try {
      const failure = await executePlan(deps, plan, catalog).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isErrorPolicyError(failure), String(failure)).toBe(true);
      expect((failure as { hint: string }).hint).toContain(`sensei errors list ${runId}`);
      // The keyless table stopped after the segment holding the bad row: some rows are in, not all.
      const partial = await pgQuery<{ n: string }>(tgt.url, 'SELECT count(*) AS n FROM note');
      expect(Number(partial[0]!.n)).toBeLessThan(401);

      const outcomes = await executePlan({ ...deps, errorPolicy: 'continue' }, plan, catalog);
      expect(outcomes.find((o) => o.source === 'note')).toMatchObject({ rows_read: 402, rows_written: 401, rows_errored: 1 });
      const notes = await pgQuery<{ n: string; d: string }>(tgt.url, "SELECT count(*) AS n, count(*) FILTER (WHERE body = 'tail') AS d FROM note");
      expect(notes[0]).toEqual({ n: '401', d: '1' });
      expect(await store.countErrors(runId)).toEqual({ note: 1 });
      await expectExactCopy();
    } finally {
      await source.close();
      await target.close();
    }
  });
});
