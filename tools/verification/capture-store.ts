// Captures and validation results in the Sensei store (store migration 6), sealed: they hold statistics and keys. A
// captured table's detail (a key and a row hash per row) is kept as the capture's encrypted spill file under the home
// (`captures/`), its key sealed in the table's summary; captures stored before kept it as sealed rows per bucket
// (`sensei_capture_detail`), still read.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { VerificationReport } from '../../core/findings.js';
import type { SecretBox } from '../store/secret-box.js';
import { readKeptDetail, readKeptPartition, type KeptDetail } from './capture-detail.js';
import type { TableCapture } from './capture-source.js';
import type { CaptureDetailLoader, CapturedTable, DetailPartitionReader, VerifyCapture } from './compare-capture.js';
import type { QueryResultDigest } from './query-replay.js';

/** The subset of `pg.Pool` the capture store uses. */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

/** A stored validation result: its id (in the order stored), when it was stored, and the report. */
export interface StoredValidation {
  id: number;
  at: string;
  report: VerificationReport;
}

export interface StoredCapture {
  capturedAt: string;
  tables: CapturedTable[];
}

export interface CaptureStore {
  /**
   * `<home>/captures`: where kept detail files are, and where a capture should spill (`CaptureDeps.spillDir`) so that
   * keeping its detail is a rename.
   */
  readonly dir: string;
  /**
   * Store one captured table of a run (replacing an earlier capture of it). Its detail's spill file is moved into
   * `dir` and the detail released.
   */
  saveTable(runId: string, capturedAt: string, table: TableCapture): Promise<void>;
  /** The run's capture without the detail, or null when the run was never captured. */
  load(runId: string): Promise<StoredCapture | null>;
  /** Loads a captured table's detail for the given buckets. */
  detail(runId: string): CaptureDetailLoader;
  /** Reads a captured table's detail a partition at a time (null for a capture stored before detail files). */
  detailPartitions(runId: string): DetailPartitionReader;
  saveValidation(runId: string, report: VerificationReport): Promise<void>;
  /** Replayed query results of the capture (hashes only). */
  saveQueries(runId: string, results: QueryResultDigest[]): Promise<void>;
  loadQueries(runId: string): Promise<QueryResultDigest[]>;
  /** The run's validation results, oldest first. */
  listValidations(runId: string): Promise<StoredValidation[]>;
  /** The run's latest validation result (the last stored), or null when it has none; reads and opens only that one. */
  latestValidation(runId: string): Promise<StoredValidation | null>;
  /**
   * Remove validation results and captures created before `before`. Captures of completed runs hold key values and
   * exist only to verify again: they go with the results. Returns what was removed.
   */
  purge(before: Date): Promise<{ validationResults: number; capturedTables: number; captureBuckets: number; captureFiles: number }>;
}

/** A table's sealed summary: the capture without its detail, and what reads the kept detail file (absent before). */
type StoredSummary = CapturedTable & { detailFile?: KeptDetail };

const ctx = (kind: string, runId: string, table: string): string => `sensei_capture\u0000${kind}\u0000${runId}\u0000${table}`;

/** The kept detail file of a run's table: `<dir>/<run id>/<sha256 of the table name, 32 hex>.detail`. */
const detailPath = (dir: string, runId: string, table: string): string =>
  join(dir, encodeURIComponent(runId), `${createHash('sha256').update(table).digest('hex').slice(0, 32)}.detail`);

/** The capture store of a home: `db` its store, `box` its secret box, detail files under `<home>/captures`. */
export function createCaptureStore(db: Queryable, box: SecretBox, home: string): CaptureStore {
  const dir = join(home, 'captures');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const validations = async (runId: string, order: 'ORDER BY id' | 'ORDER BY id DESC LIMIT 1'): Promise<StoredValidation[]> => {
    const res = await db.query<{ id: string; created_at: Date; report: Buffer }>(
      `SELECT id, created_at, report FROM sensei_validation_results WHERE run_id = $1 ${order}`,
      [runId],
    );
    return res.rows.map((r) => ({
      id: Number(r.id),
      at: new Date(r.created_at).toISOString(),
      report: box.open(r.report, ctx('validation', runId, '')) as VerificationReport,
    }));
  };

  /** What reads each table's kept file of a run, from its summary (null: stored before detail files), opened once. */
  const keptFiles = (runId: string): ((table: string) => Promise<KeptDetail | null>) => {
    const kept = new Map<string, Promise<KeptDetail | null>>();
    const keptOf = async (table: string): Promise<KeptDetail | null> => {
      const res = await db.query<{ summary: Buffer }>('SELECT summary FROM sensei_captures WHERE run_id = $1 AND table_name = $2', [runId, table]);
      const row = res.rows[0];
      return row ? ((box.open(row.summary, ctx('summary', runId, table)) as StoredSummary).detailFile ?? null) : null;
    };
    return (table) => {
      if (!kept.has(table)) kept.set(table, keptOf(table));
      return kept.get(table)!;
    };
  };

  return {
    dir,

    async saveTable(runId, capturedAt, table) {
      const { detail, ...summary } = table;
      const file = detailPath(dir, runId, table.target);
      const kept = detail.keep(file);
      try {
        // Rows of an earlier capture of the table stored before detail files.
        await db.query('DELETE FROM sensei_capture_detail WHERE run_id = $1 AND table_name = $2', [runId, table.target]);
        await db.query(
          `INSERT INTO sensei_captures (run_id, table_name, captured_at, summary) VALUES ($1, $2, $3, $4)
           ON CONFLICT (run_id, table_name) DO UPDATE SET captured_at = EXCLUDED.captured_at, summary = EXCLUDED.summary`,
          [runId, table.target, capturedAt, box.seal({ ...summary, detailFile: kept } satisfies StoredSummary, ctx('summary', runId, table.target))],
        );
      } catch (e) {
        rmSync(file, { force: true });
        throw e;
      } finally {
        kept.key.fill(0);
      }
    },

    async load(runId) {
      const res = await db.query<{ table_name: string; captured_at: Date; summary: Buffer }>(
        'SELECT table_name, captured_at, summary FROM sensei_captures WHERE run_id = $1',
        [runId],
      );
      if (res.rows.length === 0) return null;
      const tables = res.rows.map((r) => {
        const { detailFile: _, ...table } = box.open(r.summary, ctx('summary', runId, r.table_name)) as StoredSummary;
        return table;
      });
      const at = res.rows.map((r) => new Date(r.captured_at).toISOString()).sort()[0]!;
      return { capturedAt: at, tables };
    },

    detail(runId) {
      const keptOf = keptFiles(runId);
      return async (table, which) => {
        const file = await keptOf(table.target);
        if (file) return readKeptDetail(file, detailPath(dir, runId, table.target), table.source, which);
        const out = new Map<number, Array<[string, string]>>(which.map((b) => [b, []]));
        const res = await db.query<{ bucket: number; detail: Buffer }>(
          'SELECT bucket, detail FROM sensei_capture_detail WHERE run_id = $1 AND table_name = $2 AND bucket = ANY($3::int[])',
          [runId, table.target, which],
        );
        for (const r of res.rows) {
          const sealed = box.open(r.detail, ctx(`bucket:${r.bucket}`, runId, table.target)) as Buffer;
          out.set(r.bucket, JSON.parse(gunzipSync(sealed).toString('utf8')) as Array<[string, string]>);
        }
        return out;
      };
    },

    detailPartitions(runId) {
      const keptOf = keptFiles(runId);
      return async (table, p) => {
        const file = await keptOf(table.target);
        return file ? readKeptPartition(file, detailPath(dir, runId, table.target), table.source, p) : null;
      };
    },

    async saveValidation(runId, report) {
      await db.query('INSERT INTO sensei_validation_results (run_id, passed, report) VALUES ($1, $2, $3)', [
        runId,
        report.passed,
        box.seal(report, ctx('validation', runId, '')),
      ]);
    },

    async saveQueries(runId, results) {
      for (const r of results) {
        await db.query(
          `INSERT INTO sensei_capture_queries (run_id, name, rows, sha256, error) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (run_id, name) DO UPDATE SET rows = EXCLUDED.rows, sha256 = EXCLUDED.sha256, error = EXCLUDED.error, captured_at = now()`,
          [runId, r.name, r.rows, r.sha256, r.error ?? null],
        );
      }
    },

    async loadQueries(runId) {
      const res = await db.query<{ name: string; rows: number; sha256: string; error: string | null }>(
        'SELECT name, rows, sha256, error FROM sensei_capture_queries WHERE run_id = $1 ORDER BY name',
        [runId],
      );
      return res.rows.map((r) => ({ name: r.name, rows: r.rows, sha256: r.sha256, ...(r.error ? { error: r.error } : {}) }));
    },

    async listValidations(runId) {
      return validations(runId, 'ORDER BY id');
    },

    async latestValidation(runId) {
      // The index on (run_id, id) read backwards: one row, one report opened.
      return (await validations(runId, 'ORDER BY id DESC LIMIT 1'))[0] ?? null;
    },

    async purge(before) {
      const v = await db.query('DELETE FROM sensei_validation_results WHERE created_at < $1', [before]);
      await db.query('DELETE FROM sensei_capture_queries WHERE captured_at < $1', [before]);
      const old = await db.query<{ run_id: string; table_name: string }>('DELETE FROM sensei_captures WHERE captured_at < $1 RETURNING run_id, table_name', [before]);
      let buckets = 0;
      if (old.rows.length > 0) {
        const d = await db.query(
          `DELETE FROM sensei_capture_detail AS d USING unnest($1::text[], $2::text[]) AS u(r, t) WHERE d.run_id = u.r AND d.table_name = u.t`,
          [old.rows.map((r) => r.run_id), old.rows.map((r) => r.table_name)],
        );
        buckets = d.rowCount ?? 0;
      }
      let files = 0;
      for (const r of old.rows) {
        const file = detailPath(dir, r.run_id, r.table_name);
        if (!existsSync(file)) continue;
        rmSync(file, { force: true });
        files++;
      }
      for (const runId of new Set(old.rows.map((r) => r.run_id))) {
        try {
          rmdirSync(join(dir, encodeURIComponent(runId)));
        } catch {
          // still holds the files of tables captured later (or was never made)
        }
      }
      return { validationResults: v.rowCount ?? 0, capturedTables: old.rowCount ?? old.rows.length, captureBuckets: buckets, captureFiles: files };
    },
  };
}

/** The run's capture ready for verification and certification, or null when the run was never captured. */
export async function loadCapture(store: CaptureStore, runId: string): Promise<(VerifyCapture & { capturedAt: string; readPartition: DetailPartitionReader }) | null> {
  const c = await store.load(runId);
  return c ? { capturedAt: c.capturedAt, tables: c.tables, loadDetail: store.detail(runId), readPartition: store.detailPartitions(runId) } : null;
}
