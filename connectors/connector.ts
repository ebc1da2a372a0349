// Contracts only: what Sensei needs from a source database and from a target database.
import type { Batch, IrValue } from '../core/batch.js';
import type { Catalog, TableDef } from '../core/catalog.js';

/** What a source can do; the engine asks these flags and never the database kind. */
export interface SourceCapabilities {
  /** Reads can resume after a key (keyset pagination). Default true for tables with a primary key. */
  readonly supportsKeysetPagination: boolean;
  /** Tables without a primary key still have a stable physical order (SQLite rowid). Default false. */
  readonly hasStableRowOrder: boolean;
}

export interface ReadOptions {
  /** Rows per batch. Default 10,000. */
  batchSize?: number;
  /** Resume strictly after this primary-key tuple (key order). Default: from the start. */
  afterKey?: IrValue[] | null;
  /** Position of the resume point in read order. Without afterKey, skip this many rows first; with afterKey nothing is skipped and batch offsets start here. Default 0. */
  offset?: number;
  /** Stop after this primary-key tuple (inclusive, key order): the end of a key range. Default: to the end of the table. */
  untilKey?: IrValue[] | null;
}

/**
 * The read side of a database. It cannot write: the schema analyst and the executor get this and nothing more.
 * Values are normalised to the IR's canonical forms (see `core/batch.ts`).
 */
export interface SourceConnector {
  /** `postgres`, `mysql`, `sqlite`, `pglite`: for display and certificates only. */
  readonly dialect: string;
  /** Database (or file) name for display; never contains a credential. */
  readonly database: string;
  readonly capabilities: SourceCapabilities;
  /** Tables, columns, keys and constraints. Row counts are filled when `withCounts` is true. */
  catalog(options?: { withCounts?: boolean }): Promise<Catalog>;
  /** Exact row count of one table. */
  countRows(table: TableDef): Promise<number>;
  /**
   * Stream the table in primary-key order (or a stable order without a key), `batchSize` rows at a time, without
   * holding more than one batch in memory. Generated columns are not read.
   */
  readBatches(table: TableDef, options?: ReadOptions): AsyncIterable<Batch>;
  /**
   * Optional: at most `parts - 1` primary-key tuples, ascending in key order and chosen by the database, that cut the
   * table into about equal key ranges (range i runs after key i-1 up to key i inclusive; the last one to the end).
   * Empty when the table has no usable primary key or too few rows. Without it, tables are not split. With `align`,
   * every cut falls after a multiple of `align` rows (so ranges start where an unsplit load's segments start). With
   * `rows`, the table's row count as the caller knows it, the source does not count the table again (a full scan on
   * InnoDB); a count that is off only makes the ranges less even, never leaves a row out.
   */
  splitKeys?(table: TableDef, parts: number, align?: number, rows?: number): Promise<IrValue[][]>;
  /**
   * Optional: a uniform random sample of about `rows` rows, chosen by the database so that the cost follows the
   * sample, not the table. One batch (`lastKey` null, `offset` 0), at most `rows` rows. Without it, analysis reads
   * the table in order and samples as it goes.
   */
  sampleRows?(table: TableDef, rows: number): Promise<Batch>;
  /**
   * Optional: how many distinct values of `column` in `table` equal one of `values` (at most 1,000; integers as
   * numbers, everything else as text, converted by the database to the column's type). One query whose cost follows
   * the values, not the table (an index lookup each when the column is a key); the values are bound parameters.
   * Analysis uses it to measure whether a column references the key of a table larger than the sample. Without it,
   * inclusion is estimated on the two tables' samples.
   */
  countMatches?(table: TableDef, column: string, values: ReadonlyArray<string | number>): Promise<number>;
  /**
   * Run one read-only query (behavioural verification replays the configuration's `queries:`) and return its rows
   * as arrays, values as the driver gives them. Runs in a read-only transaction or on a read-only handle, so a
   * statement that writes fails. Optional: absent on sources that cannot replay.
   */
  replayQuery?(sql: string): Promise<{ columns: string[]; rows: unknown[][] }>;
  close(): Promise<void>;
}

/** The subset of a query result Sensei uses. */
export interface QueryResult<R = Record<string, unknown>> {
  rows: R[];
  rowCount: number;
}

/** A connection (inside a transaction when given to `transaction`'s callback). */
export interface TargetSession {
  /** Run one statement with `$1…` parameters. Text-typed results: every value arrives as PostgreSQL prints it. */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  /**
   * Bulk-load rows into `table` (already quoted, possibly schema-qualified) with `COPY … FROM STDIN` semantics.
   * `data` is PostgreSQL COPY text format (tab-separated, `\N` for NULL, one line per row). Returns rows loaded.
   */
  copyFrom(table: string, columns: string[], data: string | Buffer): Promise<number>;
  /**
   * Stream the rows of one SELECT (`sql`, no trailing semicolon) out with `COPY (…) TO STDOUT` (text format), handing
   * each piece of text to `onText` as it arrives, in order; pieces end anywhere, not at line ends. The server may run
   * the query in parallel, which a cursor never does. When `onText` fails the statement is cancelled, the session stays
   * usable, and `onText`'s error is thrown. Optional: absent where the target cannot stream a COPY out (PGlite).
   */
  copyTo?(sql: string, onText: (text: string) => Promise<void> | void): Promise<void>;
}

/** What a target can do. */
export interface TargetCapabilities {
  /** How bulk writes travel: `copy-stream` (pg-copy-streams over the wire) or `blob-copy` (PGlite in-process). */
  readonly bulkWrite: 'copy-stream' | 'blob-copy';
  /** DDL runs inside transactions and rolls back with them. True for the PostgreSQL family. */
  readonly supportsTransactionalDdl: boolean;
  /** Several sessions can work at once (false for embedded PGlite: one session at a time). */
  readonly supportsConcurrentSessions: boolean;
}

/** The write side. The PostgreSQL family first: PostgreSQL servers and embedded PGlite. */
export interface TargetConnector {
  readonly dialect: string;
  readonly database: string;
  readonly capabilities: TargetCapabilities;
  /** Tables of the target schema (default `public`) with their FKs (including `definition`). */
  catalog(options?: { withCounts?: boolean }): Promise<Catalog>;
  /** The schema tables are created in and read from. Default `public`. */
  readonly schema: string;
  /** A statement outside any explicit transaction. */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  /** Run `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (session: TargetSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
