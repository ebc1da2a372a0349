// Captures and validation results in the Sensei store (store migration 6), sealed: they hold statistics and keys.
import { promisify } from 'node:util';
import { gunzipSync, gzip } from 'node:zlib';
import type { VerificationReport } from '../../core/findings.js';
import type { SecretBox } from '../store/secret-box.js';
import type { TableCapture } from './capture-source.js';
import type { CaptureDetailLoader, CapturedTable, VerifyCapture } from './compare-capture.js';
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
  /** Store one captured table of a run (replacing an earlier capture of it). */
  saveTable(runId: string, capturedAt: string, table: TableCapture): Promise<void>;
  /** The run's capture without the detail, or null when the run was never captured. */
  load(runId: string): Promise<StoredCapture | null>;
  /** Loads a captured table's detail for the given buckets. */
  detail(runId: string): CaptureDetailLoader;
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
  purge(before: Date): Promise<{ validationResults: number; capturedTables: number; captureBuckets: number }>;
}

const gzipAsync = promisify(gzip);

/** Rows of capture detail per INSERT: ~0.5 MB of statement (measured at 50 bytes a row, gzip, sealed, hex). */
const STATEMENT_ROWS = 10_000;

const ctx = (kind: string, runId: string, table: string): string => `sensei_capture\u0000${kind}\u0000${runId}\u0000${table}`;

export function createCaptureStore(db: Queryable, box: SecretBox): CaptureStore {
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

  return {
    async saveTable(runId, capturedAt, table) {
      const { detail, ...summary } = table;
      await db.query('DELETE FROM sensei_capture_detail WHERE run_id = $1 AND table_name = $2', [runId, table.target]);
      await db.query(
        `INSERT INTO sensei_captures (run_id, table_name, captured_at, summary) VALUES ($1, $2, $3, $4)
         ON CONFLICT (run_id, table_name) DO UPDATE SET captured_at = EXCLUDED.captured_at, summary = EXCLUDED.summary`,
        [runId, table.target, capturedAt, box.seal(summary, ctx('summary', runId, table.target))],
      );
      // gzip level 1: row hashes barely compress, so level 6 took twice the time for ~10% fewer bytes (measured).
      // The buckets' rows are built a chunk at a time from the spilled detail (a partition of buckets read back at a
      // time), so storing a table does not hold all of them at once.
      const store = async (chunk: Array<[number, Array<[string, string]>]>): Promise<void> => {
        // Compressed on libuv's thread pool, off the thread that captures the next table meanwhile.
        const packed = await Promise.all(chunk.map(([, rows]) => gzipAsync(JSON.stringify(rows), { level: 1 })));
        await db.query(
          `INSERT INTO sensei_capture_detail (run_id, table_name, bucket, detail)
           SELECT $1, $2, u.b, u.d FROM unnest($3::int[], $4::bytea[]) AS u(b, d)`,
          [
            runId,
            table.target,
            chunk.map(([b]) => b),
            chunk.map(([b], k) => box.seal(packed[k]!, ctx(`bucket:${b}`, runId, table.target))),
          ],
        );
      };
      // Statements of about STATEMENT_ROWS rows: the embedded store's socket server gathers a message by appending
      // each packet to what it holds (a copy of the whole so far per packet), so a message's cost grows with its square.
      let chunk: Array<[number, Array<[string, string]>]> = [];
      let rows = 0;
      for await (const entry of detail.entries()) {
        chunk.push(entry);
        rows += entry[1].length;
        if (rows >= STATEMENT_ROWS) {
          await store(chunk);
          chunk = [];
          rows = 0;
        }
      }
      if (chunk.length > 0) await store(chunk);
    },

    async load(runId) {
      const res = await db.query<{ table_name: string; captured_at: Date; summary: Buffer }>(
        'SELECT table_name, captured_at, summary FROM sensei_captures WHERE run_id = $1',
        [runId],
      );
      if (res.rows.length === 0) return null;
      const tables = res.rows.map((r) => box.open(r.summary, ctx('summary', runId, r.table_name)) as CapturedTable);
      const at = res.rows.map((r) => new Date(r.captured_at).toISOString()).sort()[0]!;
      return { capturedAt: at, tables };
    },

    detail(runId) {
      return async (table, which) => {
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
      return { validationResults: v.rowCount ?? 0, capturedTables: old.rowCount ?? old.rows.length, captureBuckets: buckets };
    },
  };
}

/** The run's capture ready for verification, or null when the run was never captured. */
export async function loadCapture(store: CaptureStore, runId: string): Promise<VerifyCapture | null> {
  const c = await store.load(runId);
  return c ? { tables: c.tables, loadDetail: store.detail(runId) } : null;
}
