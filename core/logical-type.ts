// Sensei's logical column types: what every connector maps its declared types onto.
import { z } from 'zod';

/**
 * Sensei's logical column types. Every connector maps its declared types onto these; the planner maps them onto
 * PostgreSQL types. Parameters travel beside the kind (`length`, `precision`, `scale`).
 */
export const LogicalKind = z.enum([
  'boolean',
  'int16',
  'int32',
  'int64',
  'decimal',
  'float32',
  'float64',
  'char',
  'varchar',
  'text',
  'date',
  'time',
  'timestamp',
  'timestamptz',
  'interval',
  'bytes',
  'bits',
  'json',
  'uuid',
  'unknown',
]);
export type LogicalKind = z.infer<typeof LogicalKind>;

export const LogicalType = z.object({
  kind: LogicalKind,
  /** Character length for char/varchar; bit count for bits. */
  length: z.number().int().positive().optional(),
  /** Total digits for decimal. */
  precision: z.number().int().positive().optional(),
  /** Digits after the point for decimal. */
  scale: z.number().int().nonnegative().optional(),
  /** The only values allowed (MySQL ENUM, PostgreSQL enum types): the target gets a CHECK constraint. */
  values: z.array(z.string()).optional(),
  /** A MySQL SET: each value is a comma-separated list of these members (or ''); the target gets a CHECK constraint. */
  setMembers: z.array(z.string()).optional(),
});
export type LogicalType = z.infer<typeof LogicalType>;
