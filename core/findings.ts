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
});
export type VerificationReport = z.infer<typeof VerificationReport>;
