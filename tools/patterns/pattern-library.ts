// The pgvector pattern library on the Sensei store: learned column mappings, found again by fingerprint and name similarity.
import { PlanError, StoreError } from '../../core/errors.js';
import { FINGERPRINT_DIMENSIONS, type PatternHit, type PatternLibrary, type PatternQuery, type PatternRecord } from '../../core/profile.js';
import { checkExpression } from '../planning/expression-guard.js';
import { NAME_VECTOR_DIMENSIONS, nameVector } from './name-vector.js';

/** The subset of `pg.Pool` the library needs (a pool on the store, or a client). */
export interface PatternStorePool {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** Weight of fingerprint cosine in the score; the rest is name cosine. Default 0.7. */
export const FINGERPRINT_WEIGHT = 0.7;

export interface PatternLibraryOptions {
  /** Candidates fetched from each HNSW index before re-scoring. Default max(4k, 40). */
  candidates?: (k: number) => number;
}

interface PatternRow {
  id: string;
  source_table: string;
  source_column: string;
  semantic_type: string | null;
  target_table: string;
  target_column: string;
  transformation: string;
  provenance: { runId?: string; approvedBy?: string; at?: string };
  fsim: number | null;
  nsim: number | null;
}

const vectorLiteral = (v: readonly number[]) => `[${v.map((x) => (Number.isFinite(x) ? x : 0)).join(',')}]`;
const unit = (x: number | null) => (x === null || !Number.isFinite(x) ? 0 : Math.max(0, Math.min(1, x)));

function checkFingerprint(fp: readonly number[], where: string): void {
  if (fp.length !== FINGERPRINT_DIMENSIONS || fp.some((x) => !Number.isFinite(x))) {
    throw new PlanError(`${where}: a fingerprint must have ${FINGERPRINT_DIMENSIONS} finite numbers (got ${fp.length})`, {
      hint: 'compute it with computeColumnStats (tools/analysis/fingerprint.ts)',
    });
  }
}

/**
 * The pattern library on the store's `sensei_patterns` table (migrations 2 and 3). `search` ranks by
 * 0.7 × fingerprint cosine + 0.3 × name cosine over the union of both HNSW indexes' nearest candidates.
 * `record` learns an approved mapping (a repeat refreshes fingerprint and provenance and counts it); its
 * transformation must pass the SQL allow-list with `{{col}}` as the only column, or it is refused.
 */
export function createPatternLibrary(pool: PatternStorePool, options: PatternLibraryOptions = {}): PatternLibrary {
  const candidates = options.candidates ?? ((k: number) => Math.max(4 * k, 40));
  return {
    async search(query: PatternQuery, k = 5): Promise<PatternHit[]> {
      checkFingerprint(query.fingerprint, `pattern search for ${query.tableName}.${query.columnName}`);
      if (!Number.isInteger(k) || k <= 0) return [];
      const n = candidates(k);
      const r = await pool.query(
        `WITH q AS (SELECT $1::vector(${FINGERPRINT_DIMENSIONS}) AS f, $2::vector(${NAME_VECTOR_DIMENSIONS}) AS nv),
         cand AS (
           (SELECT p.id FROM sensei_patterns p, q WHERE p.source_table <> '' ORDER BY p.fingerprint <=> q.f LIMIT $3)
           UNION
           (SELECT p.id FROM sensei_patterns p, q WHERE p.name_vector IS NOT NULL ORDER BY p.name_vector <=> q.nv LIMIT $3)
         )
         SELECT p.id::text AS id, p.source_table, p.source_column, p.semantic_type, p.target_table, p.target_column,
                p.transformation, p.provenance, 1 - (p.fingerprint <=> q.f) AS fsim, 1 - (p.name_vector <=> q.nv) AS nsim
         FROM sensei_patterns p JOIN cand USING (id), q`,
        [vectorLiteral(query.fingerprint), vectorLiteral(nameVector(query.tableName, query.columnName)), n],
      );
      return (r.rows as PatternRow[])
        .map((row) => ({
          id: row.id,
          score: Math.round((FINGERPRINT_WEIGHT * unit(row.fsim) + (1 - FINGERPRINT_WEIGHT) * unit(row.nsim)) * 1e6) / 1e6,
          sourceTable: row.source_table,
          sourceColumn: row.source_column,
          semanticType: row.semantic_type ?? 'unknown',
          targetTable: row.target_table,
          targetColumn: row.target_column,
          transformation: row.transformation,
          provenance: { runId: row.provenance.runId ?? '', approvedBy: row.provenance.approvedBy ?? '', at: row.provenance.at ?? '' },
        }))
        .sort((a, b) => b.score - a.score || Number(b.id) - Number(a.id))
        .slice(0, k);
    },

    async record(entry: PatternRecord): Promise<void> {
      const where = `pattern ${entry.tableName}.${entry.columnName} → ${entry.targetTable}.${entry.targetColumn}`;
      checkFingerprint(entry.fingerprint, where);
      for (const [field, value] of Object.entries({ tableName: entry.tableName, columnName: entry.columnName, targetTable: entry.targetTable, targetColumn: entry.targetColumn, runId: entry.runId, approvedBy: entry.approvedBy })) {
        if (value.trim() === '') throw new PlanError(`${where}: ${field} is empty`, { hint: 'record only complete, approved mappings' });
      }
      const check = await checkExpression(entry.transformation.replaceAll('{{col}}', 'src.col'), { allowedColumns: ['col'] });
      if (!check.ok) {
        throw new PlanError(`${where}: the transformation is not allowed (${check.reason})`, {
          hint: 'write it as a PostgreSQL scalar expression over {{col}} using allow-listed functions only',
        });
      }
      const at = new Date().toISOString();
      try {
        await pool.query(
          `INSERT INTO sensei_patterns (source_signature, target_signature, fingerprint, transformation, provenance,
                                        source_table, source_column, semantic_type, target_table, target_column, name_vector, run_id, approved_by)
           VALUES ($1, $2, $3::vector, $4, $5::jsonb, $6, $7, $8, $9, $10, $11::vector, $12, $13)
           ON CONFLICT (source_table, source_column, target_table, target_column, transformation) WHERE source_table <> ''
           DO UPDATE SET fingerprint = EXCLUDED.fingerprint, provenance = EXCLUDED.provenance, semantic_type = EXCLUDED.semantic_type,
                         name_vector = EXCLUDED.name_vector, run_id = EXCLUDED.run_id, approved_by = EXCLUDED.approved_by,
                         times_recorded = sensei_patterns.times_recorded + 1, updated_at = now()`,
          [
            `${entry.tableName}.${entry.columnName}`,
            `${entry.targetTable}.${entry.targetColumn}`,
            vectorLiteral(entry.fingerprint),
            entry.transformation,
            JSON.stringify({ runId: entry.runId, approvedBy: entry.approvedBy, at }),
            entry.tableName,
            entry.columnName,
            entry.semanticType ?? null,
            entry.targetTable,
            entry.targetColumn,
            vectorLiteral(nameVector(entry.tableName, entry.columnName)),
            entry.runId,
            entry.approvedBy,
          ],
        );
      } catch (e) {
        throw new StoreError(`${where}: could not be stored: ${(e as Error).message}`, {
          hint: 'check that the store is open and at migration 3 or later',
          cause: e,
        });
      }
    },
  };
}
