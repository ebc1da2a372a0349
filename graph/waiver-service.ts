// Waivers of a run's findings for every channel (REST, WebSocket, AMANI's chat, the CLI): the findings that can be
// waived, adding and revoking a waiver with the stakeholder's identity, and each change in the approvals audit log.
import { z } from 'zod';
import type { CheckResult, Finding } from '../core/findings.js';
import type { SenseiStore } from '../tools/store/sensei-store.js';
import type { CaptureStore } from '../tools/verification/capture-store.js';
import { inferRules } from '../tools/verification/inferred-rules.js';
import { createWaiverStore, findingId, findingsOf, findingTable, WaiverRefused, type Waiver } from '../tools/verification/waivers.js';
import type { MigrationStateT } from './state.js';

/** A waiver as the stakeholder channels show it. `table`: what it concerns (null: the whole run). */
export interface WaiverView {
  id: number;
  finding_id: string;
  code: string;
  path: string[];
  table: string | null;
  reason: string;
  approved_by: string;
  approved_at: string;
}

/** A finding of the run's latest verification, with its waiver when one covers it. */
export interface FindingView {
  /** The handle to waive it by (`findingId`): stable across verifications of the same finding. */
  id: string;
  /** The check that reported it; null for a finding the verification already counted as waived (kept without its check). */
  perspective: CheckResult['perspective'] | null;
  check: string | null;
  code: Finding['code'];
  path: string[];
  message: string;
  table: string | null;
  waiver: WaiverView | null;
}

export interface RunFindings {
  run_id: string;
  /** When the latest verification ran; null when the run was never verified (then `findings` is empty). */
  verified_at: string | null;
  passed: boolean | null;
  findings: FindingView[];
}

/** Why a waiver request changed nothing. */
export type WaiverProblem = 'unknown_run' | 'refused' | 'denied' | 'unknown_waiver';
/** Errors as values: each channel turns `problem` into its own answer (HTTP status, WebSocket error, exit code). */
export type WaiverOutcome<T> = { ok: true; value: T } | { ok: false; problem: WaiverProblem; message: string };

/** Who may change a waiver of a finding about `table` (null: the whole run); a reason to refuse, or null to allow. */
export type WaiverGuard = (table: string | null) => string | null;

/** A waiver request from a stakeholder channel: the finding by its id, or by code and path; and why. */
export const WaiverBody = z
  .object({
    finding: z.string().regex(/^[0-9a-f]{8}$/, 'a finding id is 8 hex digits, as GET /runs/:id/findings lists them').optional(),
    code: z.string().optional(),
    path: z.array(z.string()).optional(),
    reason: z.string(),
  })
  .strict()
  .refine((b) => (b.finding === undefined) !== (b.code === undefined && b.path === undefined), { message: 'name the finding either by "finding" (its id) or by "code" and "path"' });

export interface WaiverServiceDeps {
  store: Pick<SenseiStore, 'pool' | 'getRun' | 'recordApproval'>;
  captures: Pick<CaptureStore, 'latestValidation'>;
  /** The run's last checkpointed state (plan, configured rules, analysis), for the table a finding concerns. */
  state(runId: string): Promise<Partial<MigrationStateT> | null>;
}

export interface WaiverService {
  findings(runId: string): Promise<WaiverOutcome<RunFindings>>;
  list(runId: string): Promise<WaiverOutcome<WaiverView[]>>;
  /**
   * Records a waiver approved by `by` (the authenticated stakeholder; a `by` in `raw` is refused) for a finding of the
   * latest verification, after `guard` allowed it; audited as `waive`.
   */
  add(runId: string, raw: unknown, by: string, guard?: WaiverGuard): Promise<WaiverOutcome<WaiverView>>;
  /** Withdraws a waiver after `guard` allowed it; audited as `revoke_waiver`. */
  revoke(runId: string, waiverId: number, by: string, guard?: WaiverGuard): Promise<WaiverOutcome<WaiverView>>;
}

const fail = (problem: WaiverProblem, message: string): { ok: false; problem: WaiverProblem; message: string } => ({ ok: false, problem, message });

export function createWaiverService(deps: WaiverServiceDeps): WaiverService {
  const waivers = createWaiverStore(deps.store.pool);

  /** The run's rules (configured and inferred), or null for an unknown run. */
  const rulesOf = async (runId: string): Promise<Array<{ name: string; table: string }> | null> => {
    if (!(await deps.store.getRun(runId))) return null;
    const state = await deps.state(runId);
    const inferred = state?.mappingPlan ? inferRules(state.mappingPlan, state.sourceCatalog) : [];
    return [...(state?.config?.rules ?? []), ...inferred];
  };
  const view = (w: Waiver, rules: Array<{ name: string; table: string }>): WaiverView => ({
    id: w.id,
    finding_id: findingId(w as Pick<Finding, 'code' | 'path'>),
    code: w.code,
    path: w.path,
    table: findingTable(w as Pick<Finding, 'code' | 'path'>, rules),
    reason: w.reason,
    approved_by: w.approvedBy,
    approved_at: w.approvedAt,
  });
  const unknownRun = (runId: string) => fail('unknown_run', `no run ${runId}`);

  return {
    async findings(runId) {
      const rules = await rulesOf(runId);
      if (!rules) return unknownRun(runId);
      const latest = await deps.captures.latestValidation(runId);
      const current = (await waivers.list(runId)).map((w) => view(w, rules));
      const of = (check: CheckResult | null, f: Finding): FindingView => {
        const id = findingId(f);
        return { id, perspective: check?.perspective ?? null, check: check?.check ?? null, code: f.code, path: f.path, message: f.message, table: findingTable(f, rules), waiver: current.find((w) => w.finding_id === id) ?? null };
      };
      const failing = latest?.report.checks.flatMap((c) => c.findings.map((f) => of(c, f))) ?? [];
      // Findings the verification already counted as waived keep their place, with the waiver (if still in force).
      const waived = (latest?.report.waived ?? []).map(({ finding }) => of(null, finding));
      return { ok: true, value: { run_id: runId, verified_at: latest?.at ?? null, passed: latest?.report.passed ?? null, findings: [...failing, ...waived] } };
    },

    async list(runId) {
      const rules = await rulesOf(runId);
      if (!rules) return unknownRun(runId);
      return { ok: true, value: (await waivers.list(runId)).map((w) => view(w, rules)) };
    },

    async add(runId, raw, by, guard) {
      const rules = await rulesOf(runId);
      if (!rules) return unknownRun(runId);
      const body = WaiverBody.safeParse(raw);
      if (!body.success) return fail('refused', `the waiver is malformed: ${body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}; nothing changed`);
      const latest = (await deps.captures.latestValidation(runId))?.report;
      if (!latest) return fail('refused', `run ${runId} has no stored verification, so there is no finding to waive; verify it first (POST /agents/verify or sensei verify ${runId}); nothing changed`);
      const b = body.data;
      const target = findingsOf(latest).find((f) => (b.finding !== undefined ? findingId(f) === b.finding : f.code === b.code && JSON.stringify(f.path) === JSON.stringify(b.path ?? [])));
      if (!target) {
        const which = b.finding !== undefined ? `finding ${b.finding}` : `${b.code} finding at [${(b.path ?? []).join(', ')}]`;
        return fail('refused', `the latest verification of run ${runId} has no ${which}; list them with GET /runs/${runId}/findings (or "show findings" in the chat); nothing changed`);
      }
      const denied = guard?.(findingTable(target, rules)) ?? null;
      if (denied) return fail('denied', `${denied}; nothing changed`);
      let added: Waiver;
      try {
        added = await waivers.add(runId, { code: target.code, path: target.path, reason: body.data.reason, by }, latest);
      } catch (e) {
        if (e instanceof WaiverRefused) return fail('refused', `${e.message}; nothing changed`);
        throw e;
      }
      const v = view(added, rules);
      await deps.store.recordApproval({ runId, decision: 'waive', by, reason: v.reason, detail: { waiver: v } });
      return { ok: true, value: v };
    },

    async revoke(runId, waiverId, by, guard) {
      const rules = await rulesOf(runId);
      if (!rules) return unknownRun(runId);
      const existing = (await waivers.list(runId)).find((w) => w.id === waiverId);
      if (!existing) return fail('unknown_waiver', `run ${runId} has no waiver ${waiverId}; list them with GET /runs/${runId}/waivers`);
      const v = view(existing, rules);
      const denied = guard?.(v.table) ?? null;
      if (denied) return fail('denied', `${denied}; nothing changed`);
      if (!(await waivers.revoke(runId, waiverId))) return fail('unknown_waiver', `run ${runId} has no waiver ${waiverId}`);
      await deps.store.recordApproval({ runId, decision: 'revoke_waiver', by, detail: { waiver: v } });
      return { ok: true, value: v };
    },
  };
}
