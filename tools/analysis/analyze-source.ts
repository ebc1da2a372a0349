// The analyze tool: structure, statistics, semantics and relationships of a source, as a typed catalog and as the CLI's JSON.
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import type { Catalog } from '../../core/catalog.js';
import { PlanError } from '../../core/errors.js';
import type { SourceConnector } from '../../connectors/connector.js';
import { openSource } from '../../connectors/open-source.js';
import { profileCatalog, type AnalysisTimings, type ProfileOptions, type ProfileResult } from './profile-catalog.js';

export interface AnalysisReport extends ProfileResult {
  timings: AnalysisTimings & { structural: number };
}

/** Structural phase (catalog with row counts), then profiling. Throws PlanError for a source without tables. */
export async function analyzeSource(source: SourceConnector, options: ProfileOptions = {}): Promise<AnalysisReport> {
  const t0 = performance.now();
  const catalog = await source.catalog({ withCounts: true });
  const structural = performance.now() - t0;
  if (catalog.tables.length === 0) {
    throw new PlanError(`the source ${source.dialect} database ${source.database} has no tables`, {
      hint: 'check the source URL (database name, and ?schema= for PostgreSQL)',
    });
  }
  const result = await profileCatalog(source, catalog, options);
  return { ...result, timings: { structural, ...result.timings } };
}

/** The JSON shape of `sensei analyze --json` (snake_case, one object). */
export const AnalysisJson = z.object({
  dialect: z.string(),
  database: z.string(),
  tables: z.array(
    z.object({
      name: z.string(),
      rows: z.number().nullable(),
      columns: z.array(
        z.object({
          name: z.string(),
          declared_type: z.string(),
          inferred_type: z.string(),
          null_ratio: z.number(),
          distinct_ratio: z.number(),
          semantic_type: z.string(),
          pii: z.string(),
          confidence: z.number(),
          pii_confidence: z.number(),
          format: z.string().optional(),
          description: z.string(),
          fingerprint: z.array(z.number()).length(128),
        }),
      ),
    }),
  ),
  relationships: z.array(
    z.object({ table: z.string(), columns: z.array(z.string()), ref_table: z.string(), ref_columns: z.array(z.string()), confidence: z.number(), evidence: z.string() }),
  ),
});
export type AnalysisJson = z.infer<typeof AnalysisJson>;

const r3 = (x: number) => Math.round(x * 1000) / 1000;

export function analysisJson(catalog: Catalog): AnalysisJson {
  return {
    dialect: catalog.dialect,
    database: catalog.database,
    tables: catalog.tables.map((t) => ({
      name: t.name,
      rows: t.rowCount,
      columns: t.columns.flatMap((c) =>
        c.profile
          ? [{
              name: c.name,
              declared_type: c.declaredType,
              inferred_type: c.profile.inferredType.kind,
              null_ratio: r3(c.profile.nullRatio),
              distinct_ratio: r3(c.profile.distinctRatio),
              semantic_type: c.profile.semanticType,
              pii: c.profile.pii,
              confidence: c.profile.semanticConfidence,
              pii_confidence: c.profile.piiConfidence,
              ...(c.profile.format ? { format: c.profile.format } : {}),
              description: c.profile.description,
              fingerprint: c.profile.fingerprint,
            }]
          : [],
      ),
    })),
    relationships: (catalog.relationships ?? []).map((r) => ({
      table: r.table,
      columns: r.columns,
      ref_table: r.refTable,
      ref_columns: r.refColumns,
      confidence: r.confidence,
      evidence: r.evidence,
    })),
  };
}

export const AnalyzeSourceInput = z.object({
  /** Source URL (`postgres://`, `mysql://`, `sqlite:///`, `pglite:///`); credential references already resolved. */
  url: z.string().min(1),
  /** Rows sampled per table. Default 100,000. */
  sample: z.number().int().positive().optional(),
});

/** The schema analyst's tool: analyse a source URL and return a compact summary (no fingerprints, no values). */
export const analyzeSourceTool = tool(
  async (input: z.infer<typeof AnalyzeSourceInput>) => {
    const source = await openSource(input.url);
    try {
      const report = await analyzeSource(source, input.sample === undefined ? {} : { sampleRows: input.sample });
      const json = analysisJson(report.catalog);
      return JSON.stringify({
        tables: json.tables.map((t) => ({
          name: t.name,
          rows: t.rows,
          columns: t.columns.map(({ fingerprint: _f, ...c }) => c),
        })),
        relationships: json.relationships,
      });
    } finally {
      await source.close();
    }
  },
  {
    name: 'analyze_source',
    description: 'Profile a source database: per column the inferred type, semantic type, PII class and confidence; inferred relationships.',
    schema: AnalyzeSourceInput,
  },
);
