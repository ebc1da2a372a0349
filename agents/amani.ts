// AMANI, the approval agent: decides what needs a human, builds the approval request, validates the stakeholder's action.
import { z } from 'zod';
import { ErrorPolicy } from '../core/config.js';
import { ApprovalDecision } from '../core/run.js';
import { allMappings, Band, type ColumnMapping, type Plan } from '../core/plan.js';

/** Identifies a column mapping across re-plans: the same pairing keeps its key, a new pairing gets a new one. */
export function mappingKey(m: Pick<ColumnMapping, 'sourceTable' | 'sourceColumn' | 'targetTable' | 'targetColumn'>): string {
  return `${m.sourceTable}.${m.sourceColumn}->${m.targetTable}.${m.targetColumn}`;
}

export type PendingMapping = Pick<ColumnMapping, 'sourceTable' | 'sourceColumn' | 'targetTable' | 'targetColumn' | 'confidence' | 'band' | 'rationale' | 'transformation'>;

/** What a paused run asks the stakeholder (the `interrupt()` value). */
export interface ApprovalRequest {
  type: 'approval_request';
  run_id: string;
  summary: string;
  counts: { auto: number; review: number; explicit: number; approved: number };
  /** Mappings that still need a human: flagged for review or below the review threshold, and not approved yet. */
  pending: PendingMapping[];
  /** What the stakeholder may do (the `action` values of {@link StakeholderAction}). */
  actions: string[];
}

const Name = z.string().trim().min(1).max(200);
const By = z.string().trim().min(1).max(200);

/**
 * A stakeholder's action: the resume value of a paused run. Untrusted (it comes from a CLI, an API, a WebSocket or an
 * LLM's tool call), so it is parsed, never cast. Table and column names match source or target names, case-insensitive.
 */
export const StakeholderAction = z.discriminatedUnion('action', [
  z
    .object({
      action: z.literal('approve'),
      by: By,
      /** Only this table (source or target name). */
      table: Name.optional(),
      /** Only this column of `table` (source or target column name); needs `table`. */
      column: Name.optional(),
      /** Only this band. */
      band: Band.optional(),
      /** Set by the server from the stakeholder's token: approve only inside these tables. */
      within: z.array(Name).max(1000).optional(),
    })
    .strict()
    .refine((a) => a.column === undefined || a.table !== undefined, { message: 'column needs table', path: ['column'] }),
  z
    .object({
      action: z.literal('modify'),
      by: By,
      table: Name,
      column: Name,
      /** Map the source column to this target column instead. */
      target_column: Name.optional(),
      /** A PostgreSQL expression over the source value; `x` stands for the source column. Checked by the SQL allow-list. */
      transformation: z.string().trim().min(1).max(4000).optional(),
    })
    .strict()
    .refine((a) => (a.target_column === undefined) !== (a.transformation === undefined), {
      message: 'give exactly one of target_column or transformation',
      path: ['target_column'],
    }),
  z
    .object({
      action: z.literal('reject'),
      by: By,
      table: Name.optional(),
      column: Name.optional(),
      /** Why: the mapper takes it into account when it plans again. */
      reason: z.string().trim().min(1).max(2000),
    })
    .strict()
    .refine((a) => a.column === undefined || a.table !== undefined, { message: 'column needs table', path: ['column'] }),
  z
    .object({
      action: z.literal('set_strategy'),
      by: By,
      batch_size: z.number().int().positive().max(1_000_000).optional(),
      checkpoint_every: z.number().int().positive().optional(),
      auto_approve_above: z.number().min(0).max(1).optional(),
      review_above: z.number().min(0).max(1).optional(),
      concurrency: z.number().int().positive().max(64).optional(),
      error_policy: ErrorPolicy.optional(),
    })
    .strict(),
  z.object({ action: z.literal('abort'), by: By, reason: z.string().trim().max(2000).optional() }).strict(),
]);
export type StakeholderAction = z.infer<typeof StakeholderAction>;

/** The original answer form (`sensei approve`): approve everything, or reject the whole run. */
export const ApprovalAnswer = z
  .object({
    decision: z.enum(['approve', 'reject']),
    by: z.string().min(1).max(200),
    reason: z.string().max(2000).optional(),
  })
  .strict();
export type ApprovalAnswer = z.infer<typeof ApprovalAnswer>;

export const ACTIONS = ['approve', 'modify', 'reject', 'set_strategy', 'abort'] as const;

export interface Amani {
  /** null when nothing needs a human (every mapping auto or already approved) or approval was given up front. */
  request(runId: string, plan: Plan, options: { preApproved: boolean; approvedKeys?: readonly string[] }): ApprovalRequest | null;
  /** The automatic decision when `request` returned null. */
  autoDecision(options: { preApproved: boolean }): ApprovalDecision;
  /** Parses a resume value into an action (or a legacy approve/reject answer); throws a clear message for anything else. */
  parseAction(answer: unknown): StakeholderAction;
  /** Parses the legacy answer into a whole-run decision. */
  decide(answer: unknown): ApprovalDecision;
}

/** The mappings that still need a human. */
export function pendingMappings(plan: Plan, approvedKeys: readonly string[] = []): ColumnMapping[] {
  const approved = new Set(approvedKeys);
  return allMappings(plan).filter((m) => m.band !== 'auto' && !approved.has(mappingKey(m)));
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

export function createAmani(): Amani {
  return {
    request(runId, plan, { preApproved, approvedKeys = [] }) {
      const mappings = allMappings(plan);
      const pending = pendingMappings(plan, approvedKeys);
      if (preApproved || pending.length === 0) return null;
      const counts = {
        auto: mappings.filter((m) => m.band === 'auto').length,
        review: pending.filter((m) => m.band === 'review').length,
        explicit: pending.filter((m) => m.band === 'explicit').length,
        approved: mappings.length - pending.length - mappings.filter((m) => m.band === 'auto').length,
      };
      return {
        type: 'approval_request',
        run_id: runId,
        summary: `${plan.tables.length} table(s), ${mappings.length} column mapping(s): ${counts.auto} auto-approved, ${counts.approved} approved by a stakeholder, ${counts.review} flagged for review, ${counts.explicit} need explicit approval`,
        counts,
        pending: pending.map((m) => ({
          sourceTable: m.sourceTable,
          sourceColumn: m.sourceColumn,
          targetTable: m.targetTable,
          targetColumn: m.targetColumn,
          confidence: m.confidence,
          band: m.band,
          rationale: m.rationale,
          transformation: m.transformation,
        })),
        actions: [...ACTIONS],
      };
    },
    autoDecision({ preApproved }) {
      return { decision: 'approve', by: preApproved ? '--yes' : 'auto', at: new Date().toISOString() };
    },
    parseAction(answer) {
      const legacy = ApprovalAnswer.safeParse(answer);
      if (legacy.success) {
        const { decision, by, reason } = legacy.data;
        return decision === 'approve' ? { action: 'approve', by } : { action: 'abort', by, ...(reason ? { reason } : {}) };
      }
      const parsed = StakeholderAction.safeParse(answer);
      if (!parsed.success) throw new Error(`invalid approval answer: ${describeIssues(parsed.error)}`);
      return parsed.data;
    },
    decide(answer) {
      const parsed = ApprovalAnswer.safeParse(answer);
      if (!parsed.success) throw new Error(`invalid approval answer: ${describeIssues(parsed.error)}`);
      return { ...parsed.data, at: new Date().toISOString() };
    },
  };
}
