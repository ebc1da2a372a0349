// The sensei.yaml configuration: where to read, where to write, and how.
import { z } from 'zod';

/**
 * A database endpoint. Either `url` (which may itself be a credential reference such as `env://SOURCE_URL`), or
 * `type/host/port/database` with `credentials` as a reference (`env://NAME`, `file:///path`, `vault://path#key`).
 * Inline passwords are refused: Sensei never stores a secret.
 */
export const EndpointConfig = z
  .object({
    url: z.string().min(1).optional(),
    type: z.enum(['postgres', 'postgresql', 'mysql', 'mariadb', 'sqlite', 'pglite']).optional(),
    host: z.string().optional(),
    port: z.number().int().positive().optional(),
    database: z.string().optional(),
    user: z.string().optional(),
    /** Reference to the password: `env://NAME`, `file:///path` or `vault://path#key`. */
    credentials: z.string().optional(),
    ssl: z.union([z.boolean(), z.enum(['require', 'verify-full', 'disable'])]).optional(),
    /** Source only: PostgreSQL schema to read (default `public`). */
    schema: z.string().optional(),
  })
  .strict();
export type EndpointConfig = z.infer<typeof EndpointConfig>;

/** What queued rows do to a run (see `strategy.error_policy`). */
export const ErrorPolicy = z.union([z.enum(['continue', 'stop_on_first']), z.object({ stop_after: z.number().int().nonnegative() }).strict()]);
export type ErrorPolicy = z.infer<typeof ErrorPolicy>;

export const StrategyConfig = z
  .object({
    /** Rows per read batch. Default 10,000. */
    batch_size: z.number().int().positive().max(1_000_000).default(10_000),
    /** Rows between checkpoints. Default 100,000. */
    checkpoint_every: z.number().int().positive().default(100_000),
    /** Mappings with confidence strictly above this are approved automatically. Default 0.95. */
    auto_approve_above: z.number().min(0).max(1).default(0.95),
    /** Mappings at or above this are flagged for review, below need explicit approval. Default 0.80. */
    review_above: z.number().min(0).max(1).default(0.8),
    /** Tables of one DAG phase loaded at once. Default 2; targets without concurrent sessions (PGlite) use 1. */
    concurrency: z.number().int().positive().max(64).default(2),
    /**
     * What queued rows do to the run: `continue` (default), `stop_on_first`, or `{ stop_after: N }` (more than N rows
     * queued by one execution). A stop happens at a checkpoint: fix the cause, then `sensei resume RUN_ID`.
     */
    error_policy: ErrorPolicy.default('continue'),
    /** Retries of a segment after a lost connection (with exponential backoff). Default 5. */
    max_retries: z.number().int().nonnegative().max(100).default(5),
    /** First pause before a retry, doubled each time (max 10 s). Default 500 ms. */
    retry_backoff_ms: z.number().int().nonnegative().default(500),
    /**
     * COPY batches straight into the target table when every transformation of the table is a plain cast and every
     * rule one Sensei wrote (checked in Sensei before the COPY); any batch with a doubtful row takes the staged path
     * (COPY into a staging table, INSERT … SELECT … WHERE the rules hold). Same rows, same queue. Default true.
     */
    direct_copy: z.boolean().default(true),
  })
  .strict();
export type StrategyConfig = z.infer<typeof StrategyConfig>;

/** A business rule: a PostgreSQL predicate over one target table's columns that enough rows must satisfy. */
export const RuleConfig = z
  .object({
    name: z.string().min(1),
    /** Target table the predicate reads (its columns, unqualified or as `t.column`). */
    table: z.string().min(1),
    /** Boolean expression; checked against the SQL allow-list before it runs. NULL counts as failing. */
    predicate: z.string().min(1),
    /** Fraction of rows that must satisfy it. Default 0.98. */
    threshold: z.number().min(0).max(1).default(0.98),
  })
  .strict();
export type RuleConfig = z.infer<typeof RuleConfig>;

/** A query replayed for behavioural equivalence: run on the source at capture time and on the target after loading. */
export const QueryConfig = z
  .object({
    name: z.string().min(1),
    /** A single SELECT in the source's dialect. */
    source: z.string().min(1),
    /** The same question on the target schema. Default: `source` with table and column names mapped through the plan. */
    target: z.string().min(1).optional(),
    /** Compare rows in order (the query has an ORDER BY that matters). Default false: compared as a multiset. */
    ordered: z.boolean().default(false),
  })
  .strict();
export type QueryConfig = z.infer<typeof QueryConfig>;

export const RetentionConfig = z
  .object({
    /** Years validation results (and the captures they were made from) are kept. Default 7. */
    validation_years: z.number().positive().default(7),
  })
  .strict();
export type RetentionConfig = z.infer<typeof RetentionConfig>;

export const SenseiConfig = z
  .object({
    source: EndpointConfig,
    target: EndpointConfig.extend({
      /** Path to a PostgreSQL DDL file for the target schema (relative to the config file). */
      schema: z.string().optional(),
    }).strict(),
    strategy: StrategyConfig.default(StrategyConfig.parse({})),
    /**
     * What happens to a source date PostgreSQL cannot store (MySQL `0000-00-00`, `2020-00-15`): `error` (default)
     * keeps the row out and queues it with rule `zero_date`; `null` loads the value as NULL.
     */
    zero_dates: z.enum(['error', 'null']).optional(),
    /**
     * Text that looks double-encoded (UTF-8 stored through a latin1 connection, `Ã©` for `é`; MySQL/MariaDB sources):
     * `report` (default) counts it per column in the plan warnings and loads it unchanged; `repair` repairs it in every
     * text column, a list of `table.column` only in those. Values that do not round-trip go to the error queue.
     */
    double_encoding: z.union([z.enum(['report', 'repair']), z.array(z.string().regex(/^[^.]+\.[^.]+$/, 'write table.column')).min(1)]).optional(),
    /**
     * Overrides of the cast table (tools/planning/cast-table.ts) for generated targets: keys are a source declared type
     * (`tinyint(1)`, `time`, case-insensitive, parameters optional) or `table.column`; values a PostgreSQL type.
     */
    casts: z.record(z.string(), z.string().min(1)).optional(),
    /** Business rules checked on the target after loading (semantic perspective). Default none. */
    rules: z.array(RuleConfig).default([]),
    /** Queries replayed on source and target (behavioural perspective). Default none. */
    queries: z.array(QueryConfig).default([]),
    retention: RetentionConfig.default(RetentionConfig.parse({})),
  })
  .strict();
export type SenseiConfig = z.infer<typeof SenseiConfig>;
