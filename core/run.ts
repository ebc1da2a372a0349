// A run's outcome per table and overall, as stored and as printed by `--json`.
import { z } from 'zod';

export const TableOutcome = z.object({
  source: z.string(),
  target: z.string(),
  rows_read: z.number().int().nonnegative(),
  rows_written: z.number().int().nonnegative(),
  rows_errored: z.number().int().nonnegative(),
  /** SHA-256 over the canonical text of every source row read, in key order. */
  source_hash: z.string(),
  /** Seconds spent on the table. */
  seconds: z.number().nonnegative(),
});
export type TableOutcome = z.infer<typeof TableOutcome>;

export const RunStatus = z.enum(['running', 'awaiting_approval', 'rejected', 'completed', 'failed']);
export type RunStatus = z.infer<typeof RunStatus>;

export const Stage = z.enum(['analyze', 'plan', 'approve', 'capture', 'execute', 'verify', 'certify', 'done']);
export type Stage = z.infer<typeof Stage>;

export const ApprovalDecision = z.object({
  decision: z.enum(['approve', 'reject']),
  /** Who decided: a stakeholder name, `auto` (all above threshold) or `--yes`. */
  by: z.string().min(1),
  reason: z.string().optional(),
  at: z.string(),
});
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;

/**
 * One row that could not be written, for the error queue. `key`, `row` and `reason` may contain source values: they
 * are only ever stored encrypted.
 */
export interface ErrorQueueEntry {
  /** Source table the row was read from. */
  table: string;
  /** The column at fault when known. */
  column: string | null;
  /** Rule or error class: `not_null`, `integer_range`, `write_rejected`, `fk_orphan`, `nul_byte`, … */
  rule: string;
  /** Where it was caught: `stage`, `validate`, `write`, `constraints`. */
  stage: string;
  /** Primary-key values of the row (source key names), or `{ _row: n }` without a key. */
  key: Record<string, unknown>;
  /** The row's values as staged (text form). */
  row: Record<string, unknown>;
  /** What was wrong and what to do. */
  reason: string;
}

/** Where rejected rows go (the store's encrypted error queue). */
export interface ErrorSink {
  /** Idempotent: an entry already queued for the run (same table, key, rule and stage) is not queued twice. */
  add(runId: string, entries: ErrorQueueEntry[]): Promise<void>;
  /** Forget the run's queued rows of one source table (it is about to be reloaded whole). */
  clear?(runId: string, table: string): Promise<void>;
  /** Rows the run has queued (not yet retried successfully) per source table, for the final accounting. */
  count?(runId: string): Promise<Record<string, number>>;
}

/**
 * Work retried after a transient failure (a lost connection), for the user's eyes: what failed, in words with the
 * driver's code, never the driver's message (it can quote values).
 */
export interface RetryNotice {
  /** The table (its source name), or `(constraints)` / `(indexes)` for the work after the load. */
  table: string;
  /** This retry's number, from 1, and the most there will be. */
  attempt: number;
  of: number;
  /** The pause before it, in milliseconds. */
  inMs: number;
  /** E.g. `lost the target connection (57P01)`, `the source stopped answering (PROTOCOL_CONNECTION_LOST)`. */
  reason: string;
}

/** Progress of one table during execution. */
export interface TableProgress {
  table: string;
  rowsRead: number;
  rowsTotal: number;
  rowsWritten: number;
  rowsErrored: number;
  done: boolean;
}
