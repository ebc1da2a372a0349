// The WebSocket protocol of `/ws/runs/:id`: client messages (validated with zod) and the server's message shapes.
import { z } from 'zod';
import type { Stage } from '../core/run.js';
import type { RunFindings, WaiverView } from '../graph/waiver-service.js';

/** Largest client message accepted, in bytes. Larger ones get an error reply; the connection stays open. */
export const MAX_MESSAGE_BYTES = 16 * 1024;

export const ClientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message'), text: z.string().trim().min(1).max(4000) }).strict(),
  // The action's fields are validated by AMANI (StakeholderAction); `by` is always the token's stakeholder.
  z.object({ type: z.literal('action'), action: z.enum(['approve', 'modify', 'reject', 'set_strategy', 'abort']) }).passthrough(),
  // The latest verification's findings, to the sender only.
  z.object({ type: z.literal('findings') }).strict(),
  // The waiver's fields are validated by the waiver service (WaiverBody); who approves is always the token's stakeholder.
  z.object({ type: z.literal('waive') }).passthrough(),
  z.object({ type: z.literal('revoke_waiver'), waiver_id: z.number().int().positive() }).strict(),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

export type ServerMessage =
  | { type: 'plan'; run_id: string; plan: unknown; pending: unknown[]; approved: string[]; counts: unknown }
  | { type: 'reply'; text: string; to: string; by?: string; action?: unknown }
  | { type: 'message'; from: string; text: string }
  /**
   * A table's progress. `stage` `capture`: rows read from the source for verification (`rows_written`: rows that passed
   * the validation rules, `rows_errored`: the others; nothing is written yet). `stage` `execute`: rows loaded into the
   * target and rows queued as errors.
   */
  | { type: 'progress'; run_id: string; stage: Stage; table: string; rows_read: number; rows_written: number; rows_errored: number; rows_total: number; done: boolean }
  | { type: 'status'; run_id: string; stage: string; status: string; certificate?: string | null }
  /** Execution retries work after a lost connection (`RetryNotice`; `in_ms`: the pause before it). */
  | { type: 'retry'; run_id: string; table: string; attempt: number; of: number; in_ms: number; reason: string }
  /**
   * The run's latest verification findings (answer to a `findings` message). `may_waive`: the ids of the findings the
   * recipient's role and tables allow them to waive, or whose waiver they may revoke (empty for a viewer).
   */
  | ({ type: 'findings'; may_waive: string[] } & RunFindings)
  /** A waiver was added or revoked (from REST, WebSocket or the chat): to every stakeholder of the run. */
  | { type: 'waiver'; run_id: string; change: 'added' | 'revoked'; waiver: WaiverView; by: string }
  | { type: 'error'; message: string };
