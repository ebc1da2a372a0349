// What the pattern library learns from a stakeholder: every approved or corrected mapping, with its provenance.
import { createHash } from 'node:crypto';
import type { Catalog } from '../core/catalog.js';
import type { ColumnMapping } from '../core/plan.js';
import { FINGERPRINT_DIMENSIONS, type Fingerprint, type PatternLibrary } from '../core/profile.js';
import { quoteIdent } from '../tools/planning/identifiers.js';

/**
 * The column's statistical fingerprint when analysis profiled it; otherwise one built from its name words and
 * declared type (hashed into the same number of dimensions, unit-normalised), so a mapping is never lost for want of
 * a profile. It holds no value of the column.
 */
export function columnFingerprint(catalog: Catalog, table: string, column: string): Fingerprint {
  const col = catalog.tables.find((t) => t.name === table)?.columns.find((c) => c.name === column);
  if (col?.profile) return col.profile.fingerprint;
  const v = new Array<number>(FINGERPRINT_DIMENSIONS).fill(0);
  const features = [...column.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean), `type:${col?.logicalType.kind ?? 'unknown'}`];
  for (const f of features) {
    const h = createHash('sha256').update(f).digest();
    v[h.readUInt16BE(0) % FINGERPRINT_DIMENSIONS]! += h[2]! & 1 ? 1 : -1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

/** Records each mapping; the transformation is stored as a template over `{{col}}` (the library's contract). */
export async function learnMappings(
  patterns: PatternLibrary,
  input: { runId: string; by: string; mappings: readonly ColumnMapping[]; source: Catalog },
): Promise<void> {
  for (const m of input.mappings) {
    await patterns.record({
      tableName: m.sourceTable,
      columnName: m.sourceColumn,
      fingerprint: columnFingerprint(input.source, m.sourceTable, m.sourceColumn),
      targetTable: m.targetTable,
      targetColumn: m.targetColumn,
      transformation: m.transformation.replaceAll(`src.${quoteIdent(m.sourceColumn)}`, '{{col}}'),
      runId: input.runId,
      approvedBy: input.by,
    });
  }
}
