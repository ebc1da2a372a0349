// Column profiles (the statistical fingerprint and semantic reading of a column) and the pattern library's contract.
import { z } from 'zod';
import { LogicalType } from './logical-type.js';

/** Number of dimensions of a column fingerprint; the layout is documented where fingerprints are computed. */
export const FINGERPRINT_DIMENSIONS = 128;

/** A unit-normalised statistical fingerprint: aggregates only, no individual value is recoverable from it. */
export const Fingerprint = z.array(z.number()).length(FINGERPRINT_DIMENSIONS);
export type Fingerprint = z.infer<typeof Fingerprint>;

export const PiiClass = z.enum(['none', 'personal', 'sensitive']);
export type PiiClass = z.infer<typeof PiiClass>;

/** What analysis learned about one column from a sample of its values. */
export const ColumnProfile = z.object({
  /** The type the data says (may be narrower than the declared one, e.g. a VARCHAR holding dates). */
  inferredType: LogicalType,
  /** Rows looked at. */
  sampleSize: z.number().int().nonnegative(),
  nullRatio: z.number().min(0).max(1),
  distinctRatio: z.number().min(0).max(1),
  fingerprint: Fingerprint,
  /** e.g. `email`, `person_name`, `date_of_birth`, `identifier`, `free_text`, `unknown`. */
  semanticType: z.string(),
  semanticConfidence: z.number().min(0).max(1),
  pii: PiiClass,
  piiConfidence: z.number().min(0).max(1),
  /** One sentence of business meaning, written from names and statistics (never from values). */
  description: z.string(),
  /** Detected value format when the column holds text in one shape (e.g. `YYYYMMDD`, `DD/MM/YYYY`, `Y/N`). */
  format: z.string().optional(),
  /** Set when the column holds values of several kinds (SQLite dynamic typing): the kinds seen and their counts. */
  mixedKinds: z.record(z.string(), z.number().int()).optional(),
});
export type ColumnProfile = z.infer<typeof ColumnProfile>;

/** A relationship the data suggests although no foreign key declares it. */
export const InferredRelationship = z.object({
  table: z.string(),
  columns: z.array(z.string()).min(1),
  refTable: z.string(),
  refColumns: z.array(z.string()).min(1),
  confidence: z.number().min(0).max(1),
  /** `declared` when a constraint exists, else what the inference rests on (names, inclusion on the data). */
  evidence: z.string(),
});
export type InferredRelationship = z.infer<typeof InferredRelationship>;

/** One known column pattern: what a similar column was mapped to before, and who approved it. */
export const PatternHit = z.object({
  id: z.string(),
  /** Cosine similarity in [0, 1] (1 = identical fingerprint and name). */
  score: z.number(),
  sourceTable: z.string(),
  sourceColumn: z.string(),
  semanticType: z.string(),
  targetTable: z.string(),
  targetColumn: z.string(),
  /** Transformation as a template over `{{col}}`; untrusted: it passes the SQL allow-list before use. */
  transformation: z.string(),
  provenance: z.object({ runId: z.string(), approvedBy: z.string(), at: z.string() }),
});
export type PatternHit = z.infer<typeof PatternHit>;

export interface PatternQuery {
  tableName: string;
  columnName: string;
  fingerprint: Fingerprint;
  semanticType?: string;
}

export interface PatternRecord extends PatternQuery {
  targetTable: string;
  targetColumn: string;
  transformation: string;
  runId: string;
  approvedBy: string;
}

/** The pgvector pattern library, as the mapper and AMANI see it. */
export interface PatternLibrary {
  /** The `k` most similar known patterns (default 5), best first. */
  search(query: PatternQuery, k?: number): Promise<PatternHit[]>;
  /** Learn an approved or corrected mapping. */
  record(entry: PatternRecord): Promise<void>;
}
