// Verification findings as data: a discriminated union on `code`, each with a path and a message.
import { z } from 'zod';

const base = { path: z.array(z.string()), message: z.string() };

export const Finding = z.discriminatedUnion('code', [
  z.object({ code: z.literal('row_count_mismatch'), ...base, expected: z.number(), actual: z.number() }),
  z.object({ code: z.literal('accounting_mismatch'), ...base, read: z.number(), written: z.number(), errored: z.number() }),
  z.object({ code: z.literal('missing_table'), ...base }),
  z.object({ code: z.literal('missing_column'), ...base }),
  z.object({ code: z.literal('type_mismatch'), ...base, expected: z.string(), actual: z.string() }),
  z.object({ code: z.literal('fk_orphans'), ...base, constraint: z.string(), orphans: z.number() }),
  z.object({ code: z.literal('fk_missing'), ...base, constraint: z.string() }),
  /** A row the source held at capture time (after transformation) is not in the target. `key`: target key columns → text. */
  z.object({ code: z.literal('row_missing'), ...base, table: z.string(), key: z.record(z.string(), z.string().nullable()) }),
  /** The target holds a row the captured source did not. */
  z.object({ code: z.literal('row_extra'), ...base, table: z.string(), key: z.record(z.string(), z.string().nullable()) }),
  /** Same key, different content. Values are never reported, only the key. */
  z.object({ code: z.literal('row_changed'), ...base, table: z.string(), key: z.record(z.string(), z.string().nullable()) }),
  /** More differing rows than the report lists. */
  z.object({ code: z.literal('rows_differ'), ...base, table: z.string(), missing: z.number(), extra: z.number(), changed: z.number() }),
  /** A column statistic (nulls, min, max, sum, lengths) differs beyond tolerance. */
  z.object({ code: z.literal('stat_mismatch'), ...base, statistic: z.string(), expected: z.string().nullable(), actual: z.string().nullable() }),
  /** No capture of the source exists for the run, so content could not be compared. */
  z.object({ code: z.literal('capture_missing'), ...base }),
  /** A business rule passed for fewer rows than its threshold. */
  z.object({ code: z.literal('rule_failed'), ...base, rule: z.string(), passRate: z.number(), threshold: z.number(), failing: z.number() }),
  /** A rule or query could not run (rejected by the SQL allow-list, or an error). */
  z.object({ code: z.literal('check_error'), ...base }),
  /** A replayed query gave a different result on the target than on the source at capture time. */
  z.object({ code: z.literal('query_mismatch'), ...base, query: z.string(), expectedRows: z.number(), actualRows: z.number() }),
  /** A replayed query could not be rewritten for the target schema by the parser of the source's dialect. */
  z.object({ code: z.literal('query_rewrite_failed'), ...base, query: z.string() }),
  /**
   * A replayed query's result depends on a case-insensitive source collation (MySQL/MariaDB `*_ci`) in a way the target
   * cannot reproduce: `table` and `column` are the source's.
   */
  z.object({ code: z.literal('query_collation_differs'), ...base, query: z.string(), table: z.string(), column: z.string() }),
]);
export type Finding = z.infer<typeof Finding>;

export const CheckResult = z.object({
  perspective: z.enum(['structural', 'statistical', 'referential', 'semantic', 'behavioral']),
  check: z.string(),
  passed: z.boolean(),
  /** How many things the check looked at (tables, columns, constraints). */
  checked: z.number().int().nonnegative(),
  findings: z.array(Finding),
});
export type CheckResult = z.infer<typeof CheckResult>;

export const VerificationReport = z.object({
  passed: z.boolean(),
  checks: z.array(CheckResult),
  /** Findings a stakeholder approved as exceptions (waivers): not counted against `passed`, listed here. */
  waived: z
    .array(z.object({ finding: Finding, waiver: z.object({ id: z.number(), reason: z.string(), approved_by: z.string(), approved_at: z.string() }) }))
    .optional(),
  /**
   * Tables whose target rows verification found equal to the source as captured in every bucket (`compareWithCapture`):
   * the bucket count, the root the target and the capture share, the rows. The certificate takes such a table's row
   * hashes from the capture instead of hashing the target again (`issueCertificate`).
   */
  matched: z.array(z.object({ table: z.string(), buckets: z.number(), root: z.string(), rows: z.number() })).optional(),
});
export type VerificationReport = z.infer<typeof VerificationReport>;
