// Reads a small sample of each table's values for the matcher (value overlap, format detection); memory only.
import type { IrValue } from '../../../core/batch.js';
import type { Catalog } from '../../../core/catalog.js';
import type { SourceConnector, TargetConnector } from '../../../connectors/connector.js';
import { qualified, quoteIdent } from '../identifiers.js';
import { columnKey, type ColumnSamples } from './value-evidence.js';

/** Rows read per table for the sample. Default 1,000. */
export const DEFAULT_SAMPLE_ROWS = 1000;

/** A value as the matcher compares it: text; bytes and NULLs are left out. */
export function sampleText(v: IrValue): string | undefined {
  if (v === null || Buffer.isBuffer(v)) return undefined;
  return typeof v === 'string' ? v : String(v);
}

/** Adds rows of one table (as arrays in `columns` order) to a samples map, keeping distinct values only. */
export function addSampleRows(into: Map<string, string[]>, table: string, columns: readonly string[], rows: Iterable<readonly IrValue[]>): void {
  const sets = columns.map(() => new Set<string>());
  for (const row of rows) {
    row.forEach((v, i) => {
      const t = sampleText(v);
      if (t !== undefined) sets[i]?.add(t);
    });
  }
  columns.forEach((c, i) => into.set(columnKey(table, c), [...sets[i]!]));
}

/** The first `rows` rows of every table of a source (one batch each), as distinct values per column. */
export async function sampleSource(source: SourceConnector, catalog: Catalog, rows = DEFAULT_SAMPLE_ROWS): Promise<ColumnSamples> {
  const out = new Map<string, string[]>();
  for (const table of catalog.tables) {
    for await (const batch of source.readBatches(table, { batchSize: rows })) {
      const names = batch.columns.map((c) => c.name);
      const asRows = Array.from({ length: batch.rowCount }, (_, r) => batch.values.map((col) => col[r] ?? null));
      addSampleRows(out, table.name, names, asRows);
      break;
    }
  }
  return out;
}

/** The first `rows` rows of every target table that holds data, as distinct text values per column. */
export async function sampleTarget(target: TargetConnector, catalog: Catalog, rows = DEFAULT_SAMPLE_ROWS): Promise<ColumnSamples> {
  const out = new Map<string, string[]>();
  for (const table of catalog.tables) {
    const columns = table.columns.filter((c) => !c.isGenerated).map((c) => c.name);
    if (columns.length === 0) continue;
    // Text in SQL, so every type compares the way the source's canonical text does.
    const list = columns.map((c) => `${quoteIdent(c)}::text`).join(', ');
    const result = await target.query<Record<string, string | null>>(`SELECT ${list} FROM ${qualified(target.schema, table.name)} LIMIT ${Math.trunc(rows)}`);
    if (result.rows.length === 0) continue;
    addSampleRows(out, table.name, columns, result.rows.map((r) => columns.map((c) => r[c] ?? null)));
  }
  return out;
}
