// Waivers: a stakeholder's approved, documented exception for one failing finding (who, when, why). Verification
// then passes with the finding listed as waived, and the certificate carries the waiver among its exceptions.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { RuleConfig } from '../../core/config.js';
import { Finding, type VerificationReport } from '../../core/findings.js';
import type { Queryable } from './capture-store.js';

const FINDING_CODES = Finding.options.map((o) => o.shape.code.value) as [string, ...string[]];

/** What a stakeholder approves: the finding (code and path exactly as verification reports them) and why. */
export const WaiverRequest = z
  .object({
    code: z.enum(FINDING_CODES),
    path: z.array(z.string()),
    /** Why the difference is acceptable; kept in the store and in the certificate. At least 10 characters. */
    reason: z.string().trim().min(10, 'give the reason in a sentence (at least 10 characters)').max(2000),
    /** Who approves it (name or e-mail). */
    by: z.string().trim().min(1).max(200),
  })
  .strict();
export type WaiverRequest = z.infer<typeof WaiverRequest>;

export interface Waiver {
  id: number;
  runId: string;
  code: string;
  path: string[];
  reason: string;
  approvedBy: string;
  approvedAt: string;
}

export interface WaiverStore {
  /**
   * Record a waiver for a finding of the run's latest stored verification. Throws `WaiverRefused` when the request is
   * malformed, the run has no stored verification, or its latest one has no such finding (nothing to waive).
   */
  add(runId: string, request: unknown, latest: VerificationReport | undefined): Promise<Waiver>;
  list(runId: string): Promise<Waiver[]>;
  /** Withdraw a waiver; false when the run has no waiver with that id. */
  revoke(runId: string, id: number): Promise<boolean>;
}

export class WaiverRefused extends Error {
  readonly code = 'waiver_refused';
}

/**
 * Every finding of a report: the failing ones and those already waived (a waiver may be re-approved with another
 * reason, or approved again after it was revoked, without verifying in between).
 */
export function findingsOf(report: VerificationReport): Finding[] {
  return [...report.checks.flatMap((c) => c.findings), ...(report.waived ?? []).map((w) => w.finding)];
}

/**
 * A short, stable handle for a finding (8 hex digits of a hash of its code and path): the same finding keeps it from
 * one verification to the next, so a stakeholder can write "waive 1a2b3c4d because …" in a chat.
 */
export function findingId(f: Pick<Finding, 'code' | 'path'>): string {
  return createHash('sha256').update(JSON.stringify([f.code, f.path])).digest('hex').slice(0, 8);
}

/**
 * The table a finding (or a waiver of it) concerns, to decide who may waive it: the first element of its path for
 * table, column, key, statistic and constraint findings; the rule's table for a business rule (`rules` are the run's
 * configured and inferred rules); null for what concerns the whole run (replayed queries, a missing capture).
 */
export function findingTable(f: Pick<Finding, 'code' | 'path'>, rules: readonly Pick<RuleConfig, 'name' | 'table'>[]): string | null {
  const [first, second] = f.path;
  if ((f.code === 'rule_failed' || f.code === 'check_error') && first === 'rules' && f.path.length === 2) {
    return rules.find((r) => r.name === second)?.table ?? null;
  }
  if ((f.code === 'query_mismatch' || f.code === 'query_rewrite_failed' || f.code === 'query_collation_differs' || f.code === 'check_error') && first === 'queries') return null;
  if (f.code === 'capture_missing') return null;
  return first ?? null;
}

const samePath = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const matches = (w: Pick<Waiver, 'code' | 'path'>, f: Finding): boolean => f.code === w.code && samePath(f.path, w.path);

/** Waivers in the store (table of store migration 7). */
export function createWaiverStore(db: Queryable): WaiverStore {
  const row = (r: { id: string; run_id: string; code: string; path: string[]; reason: string; approved_by: string; approved_at: Date }): Waiver => ({
    id: Number(r.id),
    runId: r.run_id,
    code: r.code,
    path: r.path,
    reason: r.reason,
    approvedBy: r.approved_by,
    approvedAt: new Date(r.approved_at).toISOString(),
  });
  return {
    async add(runId, request, latest) {
      const parsed = WaiverRequest.safeParse(request);
      if (!parsed.success) {
        throw new WaiverRefused(`the waiver is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`).join('; ')}`);
      }
      const w = parsed.data;
      if (!latest) throw new WaiverRefused(`run ${runId} has no stored verification, so there is no finding to waive; run sensei verify ${runId} first`);
      if (!findingsOf(latest).some((f) => matches(w, f))) {
        throw new WaiverRefused(`the latest verification of run ${runId} has no ${w.code} finding at [${w.path.join(', ')}]; copy code and path from sensei verify ${runId} --json`);
      }
      const res = await db.query<Parameters<typeof row>[0]>(
        `INSERT INTO sensei_waivers (run_id, code, path, reason, approved_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (run_id, code, path) DO UPDATE SET reason = EXCLUDED.reason, approved_by = EXCLUDED.approved_by, approved_at = now()
         RETURNING id, run_id, code, path, reason, approved_by, approved_at`,
        [runId, w.code, w.path, w.reason, w.by],
      );
      return row(res.rows[0]!);
    },
    async list(runId) {
      const res = await db.query<Parameters<typeof row>[0]>(
        'SELECT id, run_id, code, path, reason, approved_by, approved_at FROM sensei_waivers WHERE run_id = $1 ORDER BY id',
        [runId],
      );
      return res.rows.map(row);
    },
    async revoke(runId, id) {
      const res = await db.query('DELETE FROM sensei_waivers WHERE run_id = $1 AND id = $2', [runId, id]);
      return (res.rowCount ?? 0) > 0;
    },
  };
}

/**
 * The report with every finding a waiver matches (same code, same path) moved from its check to `waived`; a check
 * passes when no unwaived finding is left. Waivers that match nothing change nothing.
 */
export function applyWaivers(report: VerificationReport, waivers: readonly Waiver[]): VerificationReport {
  if (waivers.length === 0) return report;
  const waived: NonNullable<VerificationReport['waived']> = [...(report.waived ?? [])];
  const checks = report.checks.map((c) => {
    const findings = c.findings.filter((f) => {
      const w = waivers.find((x) => matches(x, f));
      if (w) waived.push({ finding: f, waiver: { id: w.id, reason: w.reason, approved_by: w.approvedBy, approved_at: w.approvedAt } });
      return !w;
    });
    return { ...c, findings, passed: c.passed || (findings.length === 0 && c.findings.length > 0) };
  });
  return { ...report, passed: checks.every((c) => c.passed), checks, ...(waived.length > 0 ? { waived } : {}) };
}
