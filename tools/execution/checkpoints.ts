// Segment checkpoints kept in the target itself, written in the same transaction as the rows they cover.
import type { IrValue } from '../../core/batch.js';
import type { QueryResult, TargetConnector, TargetSession } from '../../connectors/connector.js';

/** The schema in the target that holds Sensei's bookkeeping while a run loads; dropped after certification. */
export const CHECKPOINT_SCHEMA = '_sensei';
const CHECKPOINTS = `"${CHECKPOINT_SCHEMA}"."checkpoints"`;
const RUN_STATE = `"${CHECKPOINT_SCHEMA}"."run_state"`;
const RETRIED = `"${CHECKPOINT_SCHEMA}"."retried"`;

/** Where a table's load stands after its last committed segment. */
export interface TableCheckpoint {
  targetTable: string;
  sourceTable: string;
  rowsRead: number;
  rowsWritten: number;
  rowsErrored: number;
  /** Primary key of the last row read (key order), null for tables read by position. */
  lastKey: IrValue[] | null;
  /** SHA-256 (hex) of each committed segment's rows in read order. */
  segmentHashes: string[];
  /** Every row of the table has been read and committed. */
  done: boolean;
  /** Seconds spent loading, summed over every attempt. */
  seconds: number;
  /** For one key range of a table loaded in parts: the table it is part of (its target table). Default null. */
  partOf?: string | null;
  /** For a key range: its last key (inclusive). Default null (to the end of the table). */
  untilKey?: IrValue[] | null;
}

type Runner = Pick<TargetSession, 'query'>;

/** Creates the bookkeeping schema and tables when missing (idempotent). */
export async function ensureCheckpointTables(target: TargetConnector): Promise<void> {
  await target.query(`CREATE SCHEMA IF NOT EXISTS "${CHECKPOINT_SCHEMA}"`);
  await target.query(
    `CREATE TABLE IF NOT EXISTS ${CHECKPOINTS} (
       run_id text NOT NULL, target_table text NOT NULL, source_table text NOT NULL,
       rows_read bigint NOT NULL, rows_written bigint NOT NULL, rows_errored bigint NOT NULL,
       last_key text, segment_hashes text NOT NULL, done boolean NOT NULL, seconds double precision NOT NULL,
       updated_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (run_id, target_table))`,
  );
  // Key ranges of a table loaded in parts have a row each (target_table names the part) until the table is done.
  await target.query(`ALTER TABLE ${CHECKPOINTS} ADD COLUMN IF NOT EXISTS part_of text, ADD COLUMN IF NOT EXISTS until_key text`);
  await target.query(
    `CREATE TABLE IF NOT EXISTS ${RUN_STATE} (
       run_id text PRIMARY KEY, lifted_fks text NOT NULL, constraints_restored boolean NOT NULL DEFAULT false)`,
  );
  // Error-queue entries a retry wrote, committed with the rows: the store is told afterwards, and told again if a
  // crash came in between.
  await target.query(`CREATE TABLE IF NOT EXISTS ${RETRIED} (run_id text NOT NULL, error_id bigint NOT NULL, PRIMARY KEY (run_id, error_id))`);
}

export async function recordRetried(s: Runner, runId: string, ids: number[]): Promise<void> {
  if (ids.length > 0) await s.query(`INSERT INTO ${RETRIED} (run_id, error_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`, [runId, ids]);
}

export async function readRetried(on: Runner, runId: string): Promise<number[]> {
  if (!(await exists(on))) return [];
  const r = await on.query<{ error_id: string }>(`SELECT error_id FROM ${RETRIED} WHERE run_id = $1`, [runId]);
  return r.rows.map((row) => Number(row.error_id));
}

async function exists(on: Runner): Promise<boolean> {
  const r = await on.query<{ t: string | null }>(`SELECT to_regclass('${CHECKPOINTS}')::text AS t`);
  return r.rows[0]?.t != null;
}

const COLUMNS = 'target_table, source_table, rows_read, rows_written, rows_errored, last_key, segment_hashes, done, seconds, part_of, until_key';

/** Every checkpoint of a run (the parts of a table loaded in parts too), by target table (or part name). */
export async function readCheckpoints(on: Runner, runId: string): Promise<Map<string, TableCheckpoint>> {
  if (!(await exists(on))) return new Map();
  const r = await on.query<Record<string, string>>(`SELECT ${COLUMNS} FROM ${CHECKPOINTS} WHERE run_id = $1`, [runId]);
  return new Map(r.rows.map((row) => [row.target_table!, toCheckpoint(row)]));
}

export async function readCheckpoint(on: Runner, runId: string, targetTable: string): Promise<TableCheckpoint | null> {
  if (!(await exists(on))) return null;
  const r = await on.query<Record<string, string>>(`SELECT ${COLUMNS} FROM ${CHECKPOINTS} WHERE run_id = $1 AND target_table = $2`, [runId, targetTable]);
  return r.rows[0] ? toCheckpoint(r.rows[0]) : null;
}

/** The name a key range's checkpoint is kept under: the table's name, a unit separator and the part's number. */
export const partName = (targetTable: string, part: number): string => `${targetTable}\u001f${String(part).padStart(4, '0')}`;

/** The checkpoints of the key ranges of a table loaded in parts, in key order; empty when it is not. */
export async function readParts(on: Runner, runId: string, targetTable: string): Promise<TableCheckpoint[]> {
  if (!(await exists(on))) return [];
  const r = await on.query<Record<string, string>>(`SELECT ${COLUMNS} FROM ${CHECKPOINTS} WHERE run_id = $1 AND part_of = $2 ORDER BY target_table`, [runId, targetTable]);
  return r.rows.map(toCheckpoint);
}

function toCheckpoint(row: Record<string, string>): TableCheckpoint {
  const done = row.done as unknown;
  return {
    targetTable: row.target_table!,
    sourceTable: row.source_table!,
    rowsRead: Number(row.rows_read),
    rowsWritten: Number(row.rows_written),
    rowsErrored: Number(row.rows_errored),
    lastKey: row.last_key ? decodeKey(row.last_key) : null,
    segmentHashes: row.segment_hashes ? row.segment_hashes.split(',') : [],
    done: done === true || done === 't' || done === 'true',
    seconds: Number(row.seconds),
    partOf: row.part_of ?? null,
    untilKey: row.until_key ? decodeKey(row.until_key) : null,
  };
}

/** Upserts the checkpoint; call it inside the transaction that wrote the segment's rows. */
export async function writeCheckpoint(s: Runner, runId: string, cp: TableCheckpoint): Promise<void> {
  await s.query(
    `INSERT INTO ${CHECKPOINTS} (run_id, target_table, source_table, rows_read, rows_written, rows_errored, last_key, segment_hashes, done, seconds, part_of, until_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (run_id, target_table) DO UPDATE SET rows_read = EXCLUDED.rows_read, rows_written = EXCLUDED.rows_written,
       rows_errored = EXCLUDED.rows_errored, last_key = EXCLUDED.last_key, segment_hashes = EXCLUDED.segment_hashes,
       done = EXCLUDED.done, seconds = EXCLUDED.seconds, updated_at = now()`,
    [
      runId,
      cp.targetTable,
      cp.sourceTable,
      cp.rowsRead,
      cp.rowsWritten,
      cp.rowsErrored,
      cp.lastKey === null ? null : encodeKey(cp.lastKey),
      cp.segmentHashes.join(','),
      cp.done,
      cp.seconds,
      cp.partOf ?? null,
      cp.untilKey ? encodeKey(cp.untilKey) : null,
    ],
  );
}

export async function deleteCheckpoint(s: Runner, runId: string, targetTable: string): Promise<void> {
  await s.query(`DELETE FROM ${CHECKPOINTS} WHERE run_id = $1 AND target_table = $2`, [runId, targetTable]);
}

export async function deleteParts(s: Runner, runId: string, targetTable: string): Promise<void> {
  await s.query(`DELETE FROM ${CHECKPOINTS} WHERE run_id = $1 AND part_of = $2`, [runId, targetTable]);
}

/** The run's saved FK list (as JSON text) and whether they were restored; null before the load started. */
export async function readRunState(on: Runner, runId: string): Promise<{ liftedFks: string; constraintsRestored: boolean } | null> {
  if (!(await exists(on))) return null;
  const r: QueryResult<Record<string, unknown>> = await on.query(`SELECT lifted_fks, constraints_restored FROM ${RUN_STATE} WHERE run_id = $1`, [runId]);
  const row = r.rows[0];
  if (!row) return null;
  const restored = row.constraints_restored;
  return { liftedFks: String(row.lifted_fks), constraintsRestored: restored === true || restored === 't' || restored === 'true' };
}

export async function writeRunState(s: Runner, runId: string, liftedFks: string, constraintsRestored: boolean): Promise<void> {
  await s.query(
    `INSERT INTO ${RUN_STATE} (run_id, lifted_fks, constraints_restored) VALUES ($1, $2, $3)
     ON CONFLICT (run_id) DO UPDATE SET lifted_fks = EXCLUDED.lifted_fks, constraints_restored = EXCLUDED.constraints_restored`,
    [runId, liftedFks, constraintsRestored],
  );
}

/** Removes a run's bookkeeping (after certification); drops the schema when no other run uses it. */
export async function deleteRunCheckpoints(target: TargetConnector, runId: string): Promise<void> {
  if (!(await exists(target))) return;
  await target.transaction(async (s) => {
    await s.query(`DELETE FROM ${CHECKPOINTS} WHERE run_id = $1`, [runId]);
    await s.query(`DELETE FROM ${RUN_STATE} WHERE run_id = $1`, [runId]);
    await s.query(`DELETE FROM ${RETRIED} WHERE run_id = $1`, [runId]);
    const left = await s.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM ${CHECKPOINTS}) + (SELECT count(*) FROM ${RUN_STATE}) + (SELECT count(*) FROM ${RETRIED}) AS n`,
    );
    if (Number(left.rows[0]?.n ?? 0) === 0) await s.query(`DROP SCHEMA "${CHECKPOINT_SCHEMA}" CASCADE`);
  });
}

// Key values keep their IR type through JSON: bigints and bytes are tagged.
export function encodeKey(key: readonly IrValue[]): string {
  return JSON.stringify(key.map((v) => (typeof v === 'bigint' ? { b: v.toString() } : Buffer.isBuffer(v) ? { x: v.toString('hex') } : v)));
}

export function decodeKey(text: string): IrValue[] {
  return (JSON.parse(text) as unknown[]).map((v) => {
    if (v !== null && typeof v === 'object') {
      const o = v as { b?: string; x?: string };
      if (o.b !== undefined) return BigInt(o.b);
      if (o.x !== undefined) return Buffer.from(o.x, 'hex');
    }
    return v as IrValue;
  });
}
