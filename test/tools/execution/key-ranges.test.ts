// A large table cut into key ranges loaded at once (MariaDB, PostgreSQL and SQLite sources, PostgreSQL target, all real): every row once,
// queued rows once, resumable range by range, and the same source hash as a load that was never interrupted.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMapper } from '../../../agents/mapper.js';
import { createSchemaAnalyst } from '../../../agents/schema-analyst.js';
import { isErrorPolicyError } from '../../../core/errors.js';
import type { ErrorSink, TableOutcome } from '../../../core/run.js';
import type { SourceConnector, TargetConnector } from '../../../connectors/connector.js';
import { openSource } from '../../../connectors/open-source.js';
import { openTarget } from '../../../connectors/open-target.js';
import { executePlan, type ExecutePlanDeps } from '../../../tools/execution/execute-plan.js';
import { openStore, type SenseiStore } from '../../../tools/store/sensei-store.js';
import { createMysqlDatabase, createPgDatabase, mysqlExec, pgExec, pgQuery, tempDir, type TempDatabase } from '../../fixtures/databases.js';

const SENSORS = 30;
const DAYS = 101; // 3,030 rows: a third of them is not a whole number of 500-row segments
const BAD = new Set([5, 15, 25]); // day 50 of these sensors holds 0, which the target's CHECK refuses: one per range
const value = (sensor: number, day: number): number => (BAD.has(sensor) && day === 50 ? 0 : sensor * 1000 + day);

async function plannedRun(source: SourceConnector, target: TargetConnector) {
  const catalog = await createSchemaAnalyst().analyze(source);
  const { plan } = await createMapper().plan({ source: catalog, target, thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 } });
  return { catalog, plan };
}

/** A fresh SQLite file as a source database. */
function createSqliteDatabase(): TempDatabase {
  const d = tempDir('sensei-rsrc-');
  const path = join(d.path, 'src.db');
  return { name: path, url: `sqlite://${path}`, drop: async () => d.remove() };
}

function sqliteExec(url: string, sql: string): Promise<void> {
  const db = new Database(url.replace(/^sqlite:\/\//, ''));
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
  return Promise.resolve();
}

const SOURCES = [
  { kind: 'MariaDB', create: () => createMysqlDatabase('sensei_rsrc'), exec: mysqlExec },
  { kind: 'PostgreSQL', create: () => createPgDatabase('sensei_rsrc'), exec: pgExec },
  { kind: 'SQLite', create: async () => createSqliteDatabase(), exec: sqliteExec },
];

describe.each(SOURCES)('large tables in key ranges from $kind', ({ create, exec }) => {
  const dir = tempDir('sensei-ranges-');
  let store: SenseiStore;
  let errors: ErrorSink;
  let src: TempDatabase;
  const targets: TempDatabase[] = [];
  let uninterrupted: TableOutcome | undefined;

  beforeAll(async () => {
    store = await openStore({ home: dir.path });
    errors = {
      add: async (runId, entries) => void (await store.addErrors(runId, entries)),
      clear: async (runId, table) => void (await store.clearErrors(runId, table)),
      count: (runId) => store.countErrors(runId),
    };
    src = await create();
    const rows: string[] = [];
    for (let s = 1; s <= SENSORS; s++) {
      for (let d = 0; d < DAYS; d++) rows.push(`(${s}, '${new Date(Date.UTC(2020, 0, 1 + d)).toISOString().slice(0, 10)}', ${value(s, d)})`);
    }
    await exec(src.url, `CREATE TABLE reading (sensor int NOT NULL, at date NOT NULL, value int NOT NULL, PRIMARY KEY (sensor, at)); INSERT INTO reading VALUES ${rows.join(', ')};`);
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await src?.drop();
    for (const t of targets) await t.drop();
    dir.remove();
  });

  async function freshTarget(): Promise<TempDatabase> {
    const t = await createPgDatabase('sensei_rtgt');
    targets.push(t);
    await pgExec(t.url, 'CREATE TABLE reading (sensor int NOT NULL, at date NOT NULL, value int NOT NULL CHECK (value <> 0), PRIMARY KEY (sensor, at))');
    return t;
  }

  async function expectExactCopy(url: string): Promise<void> {
    let sum = 0;
    for (let s = 1; s <= SENSORS; s++) for (let d = 0; d < DAYS; d++) sum += value(s, d);
    const r = await pgQuery<{ n: string; d: string; s: string }>(url, 'SELECT count(*) AS n, count(DISTINCT (sensor, at)) AS d, sum(value)::text AS s FROM reading');
    expect(r[0]).toEqual({ n: String(SENSORS * DAYS - BAD.size), d: String(SENSORS * DAYS - BAD.size), s: String(sum) });
  }

  const parts = (url: string, runId: string) =>
    pgQuery<{ n: string; r: string | null }>(url, 'SELECT count(*) AS n, sum(rows_read)::text AS r FROM "_sensei"."checkpoints" WHERE run_id = $1 AND part_of IS NOT NULL', [runId]);

  it('cuts the table into as many key ranges as there are slots and loads every row once', async () => {
    const tgt = await freshTarget();
    const source = await openSource(src.url);
    const target = await openTarget(tgt.url);
    const split = vi.spyOn(source, 'splitKeys');
    const count = vi.spyOn(source, 'countRows');
    const runId = 'ranges-whole';
    await store.createRun({ id: runId, status: 'running', stage: 'execute', config: {} });
    try {
      const { catalog, plan } = await plannedRun(source, target);
      expect(catalog.tables.find((t) => t.name === 'reading')?.rowCount).toBe(SENSORS * DAYS);
      count.mockClear();
      const deps: ExecutePlanDeps = { runId, source, target, errors, batchSize: 100, checkpointEvery: 500, concurrency: 3 };
      const outcomes = await executePlan(deps, plan, catalog);
      expect(split).toHaveBeenCalledTimes(1);
      expect(split.mock.calls[0]![1]).toBe(3);
      // The analysis's count serves the progress total and the cuts; the source is counted once, by the end-of-run proof.
      expect(split.mock.calls[0]![3]).toBe(SENSORS * DAYS);
      expect(count).toHaveBeenCalledTimes(1);
      expect((await split.mock.results[0]!.value) as unknown[]).toHaveLength(2);
      uninterrupted = outcomes.find((o) => o.source === 'reading');
      expect(uninterrupted).toMatchObject({ rows_read: SENSORS * DAYS, rows_written: SENSORS * DAYS - BAD.size, rows_errored: BAD.size });
      await expectExactCopy(tgt.url);
      expect(await store.countErrors(runId)).toEqual({ reading: BAD.size });
      // The ranges' checkpoints were folded into the table's own.
      expect((await parts(tgt.url, runId))[0]!.n).toBe('0');
    } finally {
      await source.close();
      await target.close();
    }
  });

  it.each([
    { what: 'a third of', factor: 1 / 3 },
    { what: 'four times', factor: 4 },
  ])('loads every row once when the catalog holds $what the real row count (the source changed after the analysis)', async ({ factor }) => {
    const tgt = await freshTarget();
    const source = await openSource(src.url);
    const target = await openTarget(tgt.url);
    const split = vi.spyOn(source, 'splitKeys');
    const runId = `ranges-stale-${factor}`;
    await store.createRun({ id: runId, status: 'running', stage: 'execute', config: {} });
    try {
      const { catalog, plan } = await plannedRun(source, target);
      const stale = { ...catalog, tables: catalog.tables.map((t) => (t.name === 'reading' ? { ...t, rowCount: Math.round(SENSORS * DAYS * factor) } : t)) };
      const outcomes = await executePlan({ runId, source, target, errors, batchSize: 100, checkpointEvery: 500, concurrency: 3 }, plan, stale);
      expect(split).toHaveBeenCalledTimes(1);
      expect(outcomes.find((o) => o.source === 'reading')).toMatchObject({ rows_read: SENSORS * DAYS, rows_written: SENSORS * DAYS - BAD.size, rows_errored: BAD.size });
      await expectExactCopy(tgt.url);
      // Same rows in the same segments whatever the cuts: the source hash of the uncut load.
      expect(outcomes.find((o) => o.source === 'reading')?.source_hash).toBe(uninterrupted?.source_hash);
    } finally {
      await source.close();
      await target.close();
    }
  });

  it('gives the table the same source hash as a load that was not cut (ranges of whole segments)', async () => {
    const tgt = await freshTarget();
    const source = await openSource(src.url);
    const target = await openTarget(tgt.url);
    const split = vi.spyOn(source, 'splitKeys');
    const runId = 'ranges-unsplit';
    await store.createRun({ id: runId, status: 'running', stage: 'execute', config: {} });
    try {
      const { catalog, plan } = await plannedRun(source, target);
      const outcomes = await executePlan({ runId, source, target, errors, batchSize: 100, checkpointEvery: 500, concurrency: 1 }, plan, catalog);
      expect(split).not.toHaveBeenCalled();
      const whole = outcomes.find((o) => o.source === 'reading');
      expect(whole).toMatchObject({ rows_read: SENSORS * DAYS, rows_written: SENSORS * DAYS - BAD.size });
      expect(uninterrupted?.source_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(whole?.source_hash).toBe(uninterrupted?.source_hash);
    } finally {
      await source.close();
      await target.close();
    }
  });

  it('stops part-way through the ranges, resumes each from its own checkpoint, and ends with the same source hash', async () => {
    const tgt = await freshTarget();
    const source = await openSource(src.url);
    const target = await openTarget(tgt.url);
    const runId = 'ranges-resumed';
    await store.createRun({ id: runId, status: 'running', stage: 'execute', config: {} });
    try {
      const { catalog, plan } = await plannedRun(source, target);
      const deps: ExecutePlanDeps = { runId, source, target, errors, batchSize: 100, checkpointEvery: 500, concurrency: 3, errorPolicy: 'stop_on_first' };
      const failure = await executePlan(deps, plan, catalog).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isErrorPolicyError(failure), String(failure)).toBe(true);
      const stopped = (await parts(tgt.url, runId))[0]!;
      expect(stopped.n).toBe('3');
      expect(Number(stopped.r)).toBeGreaterThan(0);
      expect(Number(stopped.r)).toBeLessThan(SENSORS * DAYS);

      const outcomes = await executePlan({ ...deps, errorPolicy: 'continue' }, plan, catalog);
      const resumed = outcomes.find((o) => o.source === 'reading');
      expect(resumed).toMatchObject({ rows_read: SENSORS * DAYS, rows_written: SENSORS * DAYS - BAD.size, rows_errored: BAD.size });
      expect(resumed?.source_hash).toBe(uninterrupted?.source_hash);
      await expectExactCopy(tgt.url);
      expect(await store.countErrors(runId)).toEqual({ reading: BAD.size });
    } finally {
      await source.close();
      await target.close();
    }
  });
});
