// The schema analyst: reads what the source holds (structure, row counts, column profiles, relationships) into a typed catalog.
import type { Catalog } from '../core/catalog.js';
import type { SourceConnector } from '../connectors/connector.js';
import { analyzeSource } from '../tools/analysis/analyze-source.js';
import type { ColumnDescriber } from '../tools/analysis/describe-columns.js';

export interface SchemaAnalyst {
  analyze(source: SourceConnector): Promise<Catalog>;
}

export interface SchemaAnalystDeps {
  /** Rows sampled per table. Default 100,000. */
  sampleRows?: number;
  /** Writes business-meaning descriptions (an LLM describer when one is configured). Default deterministic. */
  describer?: ColumnDescriber;
}

/** Structure and row counts, then every column profiled (fingerprint, semantic type, PII) and relationships inferred. */
export function createSchemaAnalyst(deps: SchemaAnalystDeps = {}): SchemaAnalyst {
  return {
    async analyze(source) {
      const report = await analyzeSource(source, {
        ...(deps.sampleRows !== undefined ? { sampleRows: deps.sampleRows } : {}),
        ...(deps.describer ? { describer: deps.describer } : {}),
      });
      return report.catalog;
    },
  };
}
