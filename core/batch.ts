// The intermediate representation of rows in flight: columnar batches with per-column metadata.
import type { LogicalType } from './catalog.js';

/**
 * A canonical value. Exact decimals and 64-bit integers beyond 2^53 arrive as strings or bigints, never as lossy
 * numbers; dates and timestamps as ISO-like strings; bytes as Buffers; JSON as its text.
 */
export type IrValue = string | number | bigint | boolean | Buffer | null;

export interface BatchColumn {
  name: string;
  declaredType: string;
  logicalType: LogicalType;
  /** Character encoding the values were decoded from (`utf8` unless the source says otherwise). */
  encoding: string;
}

/** One batch of rows from one table, columnar: `values[c][r]` is column c of row r. */
export interface Batch {
  table: string;
  columns: BatchColumn[];
  values: IrValue[][];
  rowCount: number;
  /** Primary-key values of the last row (key order), for keyset pagination and checkpoints; null without a key. */
  lastKey: IrValue[] | null;
  /** Rows of this table read before this batch (offset of its first row). */
  offset: number;
  /**
   * Values the source could read but not represent canonically (zero dates, invalid byte sequences…). Each names its
   * row (index in this batch) and column; the row goes to the error queue instead of the target. Default none.
   */
  rejects?: BatchReject[];
  /**
   * Values the source changed on purpose because the configuration asked it to (e.g. double-encoded UTF-8 repaired):
   * each names its row and column, so that no value is changed silently. `values` holds the repaired value. Default none.
   */
  repairs?: BatchReject[];
}

/** One value a source refused to normalise; the row's value holds what was read (raw bytes for invalid text). */
export interface BatchReject {
  /** Row index within the batch. */
  row: number;
  column: string;
  /** `zero_date`, `invalid_encoding`, `double_encoding` (a reject), `double_encoding_repaired` (a repair), … */
  rule: string;
  /** Says what was wrong and what to do; never quotes the value. */
  reason: string;
}

/** Row r of a batch as an array in column order. */
export function batchRow(batch: Batch, r: number): IrValue[] {
  return batch.values.map((col) => col[r] ?? null);
}
