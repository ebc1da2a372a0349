// The migration plan: table and column mappings with confidence, transformations and the load order.
import { z } from 'zod';

export const Band = z.enum(['auto', 'review', 'explicit']);
export type Band = z.infer<typeof Band>;

export const MappingOrigin = z.enum(['pattern', 'heuristic', 'llm', 'user', 'generated']);
export type MappingOrigin = z.infer<typeof MappingOrigin>;

/** A predicate over the staged source row `src` that must hold before a row is written; failing rows are queued. */
export const ValidationRule = z.object({
  /** Stable rule name, e.g. `not_null`, `integer_format`, `max_length`. */
  rule: z.string(),
  /** PostgreSQL boolean expression over `src` (NULL-safe: true when the value is NULL unless the rule is `not_null`). */
  predicate: z.string(),
  /** What is wrong when it fails and what to do, for the error queue. */
  message: z.string(),
});
export type ValidationRule = z.infer<typeof ValidationRule>;

/** One source column → one target column. */
export const ColumnMapping = z.object({
  sourceTable: z.string(),
  sourceColumn: z.string(),
  targetTable: z.string(),
  targetColumn: z.string(),
  /** PostgreSQL scalar expression over the staged source row `src` (e.g. `CAST(src."id" AS integer)`). */
  transformation: z.string(),
  /** Target type as PostgreSQL spells it. */
  targetType: z.string(),
  confidence: z.number().min(0).max(1),
  band: Band,
  origin: MappingOrigin,
  rationale: z.string(),
  validationRules: z.array(ValidationRule),
});
export type ColumnMapping = z.infer<typeof ColumnMapping>;

export const TableMapping = z.object({
  source: z.string(),
  target: z.string(),
  confidence: z.number().min(0).max(1),
  rationale: z.string(),
  /** Source primary key, in key order: the read order and the key of every error-queue entry. */
  sourceKey: z.array(z.string()),
  columns: z.array(ColumnMapping),
});
export type TableMapping = z.infer<typeof TableMapping>;

export const Thresholds = z.object({
  /** Mappings strictly above this are approved without asking. Default 0.95. */
  autoApproveAbove: z.number().min(0).max(1).default(0.95),
  /** Mappings at or above this (and not auto) are flagged for review; below need explicit approval. Default 0.80. */
  reviewAbove: z.number().min(0).max(1).default(0.8),
});
export type Thresholds = z.infer<typeof Thresholds>;

export const Plan = z.object({
  tables: z.array(TableMapping),
  unmappedSource: z.array(z.string()),
  unmappedTarget: z.array(z.string()),
  /** Load phases from the foreign keys: every table's parents are in an earlier phase, or in its own cycle. */
  phases: z.array(z.array(z.string())),
  /** Target tables that take part in an FK cycle or reference themselves. */
  cyclic: z.array(z.string()),
  /** DDL the plan will apply to the target before loading (generated schema), in order; empty if the target exists. */
  targetDdl: z.array(z.string()),
  /** DDL applied after every table is loaded (indexes of a generated schema: cheaper to build once). Default none. */
  postLoadDdl: z.array(z.string()).optional(),
  /** How the target schema was obtained. */
  targetSchemaSource: z.enum(['generated', 'ddl-file', 'existing']),
  thresholds: Thresholds,
  warnings: z.array(z.string()),
});
export type Plan = z.infer<typeof Plan>;

export function bandOf(confidence: number, t: Thresholds): Band {
  if (confidence > t.autoApproveAbove) return 'auto';
  if (confidence >= t.reviewAbove) return 'review';
  return 'explicit';
}

export function allMappings(plan: Plan): ColumnMapping[] {
  return plan.tables.flatMap((t) => t.columns);
}
