// The mapper: finds the target schema (DDL file, existing tables, or generated) and plans the mapping onto it.
import type { Catalog } from '../core/catalog.js';
import type { Plan, Thresholds } from '../core/plan.js';
import type { TargetConnector } from '../connectors/connector.js';
import { buildPlan } from '../tools/planning/build-plan.js';
import { catalogFromDdl } from '../tools/planning/ddl-catalog.js';
import { generateTargetSchema } from '../tools/planning/schema-generator.js';
import type { CastOverrides } from '../tools/planning/cast-table.js';
import { loadExpressionParser } from '../tools/planning/expression-guard.js';

export interface MapperInput {
  source: Catalog;
  target: TargetConnector;
  /** Absolute path of a DDL file for the target schema, when configured. */
  ddlPath?: string;
  thresholds: Thresholds;
  /** Cast table overrides for a generated target (config `casts:`). Default none. */
  casts?: CastOverrides;
}

export interface MapperResult {
  plan: Plan;
  /** The target schema as planned (what verification checks the target against). */
  plannedTarget: Catalog;
}

export interface Mapper {
  plan(input: MapperInput): Promise<MapperResult>;
}

export function createMapper(): Mapper {
  return {
    async plan({ source, target, ddlPath, thresholds, casts }) {
      if (ddlPath) {
        const { catalog, ddl } = await catalogFromDdl(ddlPath);
        return { plan: buildPlan({ source, target: catalog, targetSchemaSource: 'ddl-file', targetDdl: [ddl], thresholds }), plannedTarget: catalog };
      }
      const existing = await target.catalog();
      if (existing.tables.length > 0) {
        return { plan: buildPlan({ source, target: existing, targetSchemaSource: 'existing', thresholds }), plannedTarget: existing };
      }
      // Cast overrides are checked with the SQL parser.
      await loadExpressionParser();
      const generated = generateTargetSchema(source, target.schema, casts ? { casts } : {});
      const plan = buildPlan({ source, target: generated.catalog, targetSchemaSource: 'generated', targetDdl: generated.ddl, thresholds });
      return {
        plan: { ...plan, postLoadDdl: generated.postLoadDdl, warnings: [...plan.warnings, ...generated.warnings] },
        plannedTarget: generated.catalog,
      };
    },
  };
}
