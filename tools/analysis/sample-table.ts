// A uniform sample of one table's rows for profiling: the whole table up to the limit, else a random sample.
import type { IrValue } from '../../core/batch.js';
import type { TableDef } from '../../core/catalog.js';
import { PlanError } from '../../core/errors.js';
import type { SourceConnector } from '../../connectors/connector.js';

/** Rows profiled per table by default: tables up to this size are read whole, larger ones sampled. */
export const DEFAULT_SAMPLE_ROWS = 100_000;

export interface TableSample {
  /** Column names in the order of `values`. */
  columns: string[];
  /** `values[c][r]`: column c of sampled row r. In memory only. */
  values: IrValue[][];
  rows: number;
  /** True when the sample holds every row of the table. */
  complete: boolean;
  /** How the rows were chosen. */
  method: 'whole-table' | 'database-sample' | 'reservoir';
}

/**
 * Sample `table`: every row when it has at most `limit` rows; else the connector's `sampleRows` (cost follows the
 * sample), or, without that capability, one ordered pass with reservoir sampling (uniform, but reads every row).
 * `rand` is the random source (default Math.random), injectable for reproducible tests.
 */
export async function sampleTable(
  source: SourceConnector,
  table: TableDef,
  limit = DEFAULT_SAMPLE_ROWS,
  rand: () => number = Math.random,
): Promise<TableSample> {
  if (!Number.isInteger(limit) || limit <= 0) {
    throw new PlanError(`sample size ${limit} for table ${table.name} is not a positive whole number`, {
      hint: 'pass --sample with a positive number of rows (default 100000)',
    });
  }
  const names = table.columns.filter((c) => !c.isGenerated).map((c) => c.name);
  const total = table.rowCount ?? null;
  if (total !== null && total > limit && source.sampleRows) {
    const b = await source.sampleRows(table, limit);
    return { columns: b.columns.map((c) => c.name), values: b.values, rows: b.rowCount, complete: false, method: 'database-sample' };
  }
  const values: IrValue[][] = names.map(() => []);
  let seen = 0;
  for await (const batch of source.readBatches(table, { batchSize: Math.min(limit, 10_000) })) {
    for (let r = 0; r < batch.rowCount; r++) {
      let slot: number;
      if (seen < limit) slot = seen;
      else {
        // Algorithm R: row `seen` replaces a random slot with probability limit / (seen + 1).
        slot = Math.floor(rand() * (seen + 1));
        if (slot >= limit) slot = -1;
      }
      seen++;
      if (slot < 0) continue;
      for (let c = 0; c < values.length; c++) values[c]![slot] = batch.values[c]![r] ?? null;
    }
  }
  const rows = Math.min(seen, limit);
  return { columns: names, values, rows, complete: seen <= limit, method: seen <= limit ? 'whole-table' : 'reservoir' };
}
