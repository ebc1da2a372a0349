// AMANI, the approval agent: decides what needs a human, builds the approval request, validates the answer.
import { z } from 'zod';
import { ApprovalDecision } from '../core/run.js';
import { allMappings, type ColumnMapping, type Plan } from '../core/plan.js';

/** What a paused run asks the stakeholder (the `interrupt()` value). */
export interface ApprovalRequest {
  type: 'approval_request';
  run_id: string;
  summary: string;
  counts: { auto: number; review: number; explicit: number };
  /** Mappings that need a human: flagged for review or below the review threshold. */
  pending: Array<Pick<ColumnMapping, 'sourceTable' | 'sourceColumn' | 'targetTable' | 'targetColumn' | 'confidence' | 'band' | 'rationale' | 'transformation'>>;
  actions: string[];
}

/** The resume value: untrusted (it comes from a CLI, an API or a WebSocket), so it is parsed, never cast. */
export const ApprovalAnswer = z
  .object({
    decision: z.enum(['approve', 'reject']),
    by: z.string().min(1).max(200),
    reason: z.string().max(2000).optional(),
  })
  .strict();
export type ApprovalAnswer = z.infer<typeof ApprovalAnswer>;

export interface Amani {
  /** null when nothing needs a human (every mapping in the auto band) or approval was given up front. */
  request(runId: string, plan: Plan, options: { preApproved: boolean }): ApprovalRequest | null;
  /** The automatic decision when `request` returned null. */
  autoDecision(options: { preApproved: boolean }): ApprovalDecision;
  /** Parses a resume value into a decision; throws a clear message for anything else. */
  decide(answer: unknown): ApprovalDecision;
}

export function createAmani(): Amani {
  return {
    request(runId, plan, { preApproved }) {
      const mappings = allMappings(plan);
      const pending = mappings.filter((m) => m.band !== 'auto');
      if (preApproved || pending.length === 0) return null;
      const counts = {
        auto: mappings.length - pending.length,
        review: pending.filter((m) => m.band === 'review').length,
        explicit: pending.filter((m) => m.band === 'explicit').length,
      };
      return {
        type: 'approval_request',
        run_id: runId,
        summary: `${plan.tables.length} table(s), ${mappings.length} column mapping(s): ${counts.auto} auto-approved, ${counts.review} flagged for review, ${counts.explicit} need explicit approval`,
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
        actions: ['approve', 'reject'],
      };
    },
    autoDecision({ preApproved }) {
      return { decision: 'approve', by: preApproved ? '--yes' : 'auto', at: new Date().toISOString() };
    },
    decide(answer) {
      const parsed = ApprovalAnswer.safeParse(answer);
      if (!parsed.success) {
        throw new Error(`invalid approval answer: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
      }
      return { ...parsed.data, at: new Date().toISOString() };
    },
  };
}
