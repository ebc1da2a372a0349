// Waivers applied to a verification report: only the finding with the same code and path is waived, the check and
// the report pass only when nothing unwaived is left, and a waiver request is validated before it is stored.
import { describe, expect, it } from 'vitest';
import type { VerificationReport } from '../../../core/findings.js';
import { applyWaivers, findingId, findingsOf, findingTable, WaiverRequest, type Waiver } from '../../../tools/verification/waivers.js';

const report: VerificationReport = {
  passed: false,
  checks: [
    { perspective: 'structural', check: 'schema', passed: true, checked: 3, findings: [] },
    {
      perspective: 'behavioral', check: 'queries', passed: false, checked: 2,
      findings: [
        { code: 'query_mismatch', path: ['queries', 'avg'], query: 'avg', expectedRows: 1, actualRows: 1, message: 'query avg differs' },
        { code: 'query_mismatch', path: ['queries', 'sum'], query: 'sum', expectedRows: 1, actualRows: 1, message: 'query sum differs' },
      ],
    },
  ],
};
const waiver = (id: number, code: string, path: string[]): Waiver => ({ id, runId: 'r', code, path, reason: 'rounding differs by design', approvedBy: 'erin', approvedAt: '2026-01-01T00:00:00.000Z' });

describe('applyWaivers', () => {
  it('waives exactly the matching finding and keeps the run failing while another is left', () => {
    const r = applyWaivers(report, [waiver(1, 'query_mismatch', ['queries', 'avg'])]);
    expect(r.passed).toBe(false);
    expect(r.checks[1]!.findings.map((f) => f.path[1])).toEqual(['sum']);
    expect(r.waived).toEqual([{ finding: report.checks[1]!.findings[0], waiver: { id: 1, reason: 'rounding differs by design', approved_by: 'erin', approved_at: '2026-01-01T00:00:00.000Z' } }]);
  });

  it('passes when every finding is waived, and lists them', () => {
    const r = applyWaivers(report, [waiver(1, 'query_mismatch', ['queries', 'avg']), waiver(2, 'query_mismatch', ['queries', 'sum'])]);
    expect(r.passed).toBe(true);
    expect(r.checks[1]).toMatchObject({ passed: true, findings: [] });
    expect(r.waived?.map((w) => w.waiver.id)).toEqual([1, 2]);
  });

  it('ignores waivers whose code or path differ (a prefix of a path is not the path)', () => {
    const r = applyWaivers(report, [waiver(1, 'rule_failed', ['queries', 'avg']), waiver(2, 'query_mismatch', ['queries']), waiver(3, 'query_mismatch', ['queries', 'avg', 'x'])]);
    expect(r).toEqual(report);
  });
});

describe('WaiverRequest', () => {
  it('requires a known finding code, a reason in a sentence and who approves', () => {
    expect(WaiverRequest.safeParse({ code: 'query_mismatch', path: ['queries', 'avg'], reason: 'rounding differs by design', by: 'erin' }).success).toBe(true);
    const bad = WaiverRequest.safeParse({ code: 'everything', path: [], reason: 'ok', by: ' ' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path[0])).toEqual(['code', 'reason', 'by']);
  });
});

describe('finding handles and the table a finding concerns', () => {
  it('gives a finding a short id that depends on its code and path only', () => {
    const a = findingId({ code: 'row_changed', path: ['items', 'id=77'] });
    expect(a).toMatch(/^[0-9a-f]{8}$/);
    expect(findingId({ code: 'row_changed', path: ['items', 'id=77'] })).toBe(a);
    expect(findingId({ code: 'row_missing', path: ['items', 'id=77'] })).not.toBe(a);
    expect(findingId({ code: 'row_changed', path: ['items', 'id=78'] })).not.toBe(a);
    // The elements are kept apart: ["a,b"] is not ["a", "b"].
    expect(findingId({ code: 'missing_column', path: ['a,b'] })).not.toBe(findingId({ code: 'missing_column', path: ['a', 'b'] }));
  });

  it("names a finding's table from its path, a rule's table from the run's rules, and none for whole-run findings", () => {
    const rules = [{ name: 'positive totals', table: 'orders' }];
    expect(findingTable({ code: 'row_changed', path: ['items', 'id=77'] }, rules)).toBe('items');
    expect(findingTable({ code: 'stat_mismatch', path: ['items', 'label', 'max_length'] }, rules)).toBe('items');
    expect(findingTable({ code: 'rule_failed', path: ['rules', 'positive totals'] }, rules)).toBe('orders');
    expect(findingTable({ code: 'check_error', path: ['rules', 'unknown rule'] }, rules)).toBeNull();
    expect(findingTable({ code: 'query_mismatch', path: ['queries', 'avg'] }, rules)).toBeNull();
    expect(findingTable({ code: 'query_collation_differs', path: ['queries', 'by name'] }, rules)).toBeNull();
    expect(findingTable({ code: 'capture_missing', path: [] }, rules)).toBeNull();
    // A table called "rules" is still a table for its own findings.
    expect(findingTable({ code: 'missing_column', path: ['rules', 'name'] }, rules)).toBe('rules');
  });

  it('counts waived findings among the findings of a report', () => {
    const applied = applyWaivers(report, [waiver(1, 'query_mismatch', ['queries', 'avg'])]);
    expect(findingsOf(applied).map((f) => f.path[1]).sort()).toEqual(['avg', 'sum']);
  });
});
