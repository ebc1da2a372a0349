// The mapper: finds the target schema (DDL file, existing tables, or generated) and plans the mapping onto it.
import type { Catalog } from '../core/catalog.js';
import type { Plan, Thresholds } from '../core/plan.js';
import type { TargetConnector } from '../connectors/connector.js';
import { buildPlan } from '../tools/planning/build-plan.js';
import { catalogFromDdl } from '../tools/planning/ddl-catalog.js';
import { generateTargetSchema } from '../tools/planning/schema-generator.js';

export interface MapperInput {
  source: Catalog;
  target: TargetConnector;
  /** Absolute path of a DDL file for the target schema, when configured. */
  ddlPath?: string;
  thresholds: Thresholds;
  /** Stakeholders' rejections of earlier plans of this run: the new plan must take them into account. Default none. */
  feedback?: MapperFeedback[];
}

/**
 * A stakeholder's rejection. With `sourceColumn` (and `targetColumn`): that pairing is never proposed again. With only
 * `sourceTable`: the table's mappings are planned again but each needs explicit approval, with the reason attached.
 * Without either: the whole plan is re-proposed with every mapping needing explicit approval.
 */
export interface MapperFeedback {
  by: string;
  reason: string;
  sourceTable?: string;
  sourceColumn?: string;
  targetColumn?: string;
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
  const planOnce = async ({ source, target, ddlPath, thresholds }: MapperInput): Promise<MapperResult> => {
      if (ddlPath) {
        const { catalog, ddl } = await catalogFromDdl(ddlPath);
        return { plan: buildPlan({ source, target: catalog, targetSchemaSource: 'ddl-file', targetDdl: [ddl], thresholds }), plannedTarget: catalog };
      }
      const existing = await target.catalog();
      if (existing.tables.length > 0) {
        return { plan: buildPlan({ source, target: existing, targetSchemaSource: 'existing', thresholds }), plannedTarget: existing };
      }
      const generated = generateTargetSchema(source, target.schema);
      return {
        plan: buildPlan({ source, target: generated.catalog, targetSchemaSource: 'generated', targetDdl: generated.ddl, thresholds }),
        plannedTarget: generated.catalog,
      };
  };
  return {
    async plan(input) {
      const result = await planOnce(input);
      return { ...result, plan: applyFeedback(result.plan, input.feedback ?? []) };
    },
  };
}

/** Below the review band, so a stakeholder looks at it again. */
const RECONSIDER_CONFIDENCE = 0.5;

export function applyFeedback(plan: Plan, feedback: readonly MapperFeedback[]): Plan {
  if (feedback.length === 0) return plan;
  const warnings = [...plan.warnings];
  const unmappedSource = [...plan.unmappedSource];
  const unmappedTarget = [...plan.unmappedTarget];
  const tables = plan.tables.map((t) => {
    let columns = t.columns;
    for (const f of feedback) {
      if (f.sourceColumn !== undefined) {
        if (f.sourceTable !== t.source) continue;
        const dropped = columns.filter((c) => c.sourceColumn === f.sourceColumn && (f.targetColumn === undefined || c.targetColumn === f.targetColumn));
        if (dropped.length === 0) continue;
        columns = columns.filter((c) => !dropped.includes(c));
        for (const c of dropped) {
          unmappedSource.push(`${c.sourceTable}.${c.sourceColumn}`);
          unmappedTarget.push(`${c.targetTable}.${c.targetColumn}`);
          warnings.push(`${c.sourceTable}.${c.sourceColumn} → ${c.targetTable}.${c.targetColumn} was rejected by ${f.by} ("${f.reason}"): not proposed again; map it by hand if it belongs somewhere`);
        }
      } else if (f.sourceTable === undefined || f.sourceTable === t.source) {
        columns = columns.map((c) => ({
          ...c,
          confidence: Math.min(c.confidence, RECONSIDER_CONFIDENCE),
          band: 'explicit' as const,
          rationale: `${c.rationale}; rejected by ${f.by}: "${f.reason}" — check this mapping against the reason`,
        }));
        warnings.push(`${f.sourceTable ?? 'the plan'} was rejected by ${f.by}: "${f.reason}"; every mapping of it needs explicit approval`);
      }
    }
    return columns === t.columns ? t : { ...t, columns };
  });
  return { ...plan, tables, unmappedSource, unmappedTarget, warnings };
}
