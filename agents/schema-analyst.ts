// The schema analyst: reads what the source holds (structure and row counts) into a typed catalog.
import type { Catalog } from '../core/catalog.js';
import { PlanError } from '../core/errors.js';
import type { SourceConnector } from '../connectors/connector.js';

export interface SchemaAnalyst {
  analyze(source: SourceConnector): Promise<Catalog>;
}

/** Deterministic for now; the statistical and semantic layers (fingerprints, PII) join here. */
export function createSchemaAnalyst(): SchemaAnalyst {
  return {
    async analyze(source) {
      const catalog = await source.catalog({ withCounts: true });
      if (catalog.tables.length === 0) {
        throw new PlanError(`the source ${source.dialect} database ${source.database} has no tables`, {
          hint: 'check the source URL (database name, and ?schema= for PostgreSQL)',
        });
      }
      return catalog;
    },
  };
}
