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

export const Stage = z.enum(['analyze', 'plan', 'approve', 'execute', 'verify', 'certify', 'done']);
export type Stage = z.infer<typeof Stage>;

export const ApprovalDecision = z.object({
  decision: z.enum(['approve', 'reject']),
  /** Who decided: a stakeholder name, `auto` (all above threshold) or `--yes`. */
  by: z.string().min(1),
  reason: z.string().optional(),
  at: z.string(),
});
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;
