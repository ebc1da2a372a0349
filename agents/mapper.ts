// The mapper: finds the target schema (DDL file, existing tables, or generated) and plans the mapping onto it.
import type { Catalog } from '../core/catalog.js';
import type { Plan, Thresholds } from '../core/plan.js';
import type { PatternHit, PatternLibrary } from '../core/profile.js';
import type { SourceConnector, TargetConnector } from '../connectors/connector.js';
import type { MappingModel } from '../tools/llm/mapping-model.js';
import { buildPlan, type BuildPlanInput, type GuardedPatternHit } from '../tools/planning/build-plan.js';
import { catalogFromDdl } from '../tools/planning/ddl-catalog.js';
import { checkExpression, loadExpressionParser } from '../tools/planning/expression-guard.js';
import { quoteIdent } from '../tools/planning/identifiers.js';
import { sampleSource, sampleTarget } from '../tools/planning/matching/sample-values.js';
import { columnKey } from '../tools/planning/matching/value-evidence.js';
import { refineWithModel } from '../tools/planning/refine-with-model.js';
import { generateTargetSchema } from '../tools/planning/schema-generator.js';
import type { CastOverrides } from '../tools/planning/cast-table.js';

export interface MapperInput {
  source: Catalog;
  target: TargetConnector;
  /** Absolute path of a DDL file for the target schema, when configured. */
  ddlPath?: string;
  thresholds: Thresholds;
  /** Cast table overrides for a generated target (config `casts:`). Default none. */
  casts?: CastOverrides;
  /** The source itself, to sample values (memory only) for value overlap and format detection. Default: no samples. */
  sourceConnector?: SourceConnector;
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

export interface MapperDeps {
  /** The LLM for columns below the review threshold. Default none: the plan is deterministic and says so. */
  model?: MappingModel | null;
  /** The pattern library, asked first for every profiled column. Default none. */
  patterns?: PatternLibrary | null;
}

/** Below this similarity a pattern hit is not used. */
const PATTERN_MIN_SCORE = 0.9;

export function createMapper(deps: MapperDeps = {}): Mapper {
  const planOnce = async ({ source, target, ddlPath, thresholds, casts, sourceConnector }: MapperInput): Promise<MapperResult> => {
      if (!ddlPath && (await target.catalog()).tables.length === 0) {
        // Cast overrides are checked with the SQL parser.
        await loadExpressionParser();
        const generated = generateTargetSchema(source, target.schema, casts ? { casts } : {});
        const plan = buildPlan({ source, target: generated.catalog, targetSchemaSource: 'generated', targetDdl: generated.ddl, thresholds });
        return {
          plan: { ...plan, postLoadDdl: generated.postLoadDdl, warnings: [...plan.warnings, ...generated.warnings] },
          plannedTarget: generated.catalog,
        };
      }
      let input: BuildPlanInput;
      const ddlWarnings: string[] = [];
      if (ddlPath) {
        const { catalog, ddl, warnings } = await catalogFromDdl(ddlPath);
        ddlWarnings.push(...warnings);
        input = { source, target: catalog, targetSchemaSource: 'ddl-file', targetDdl: [ddl], thresholds };
      } else {
        const existing = await target.catalog();
        input = { source, target: existing, targetSchemaSource: 'existing', thresholds, targetSamples: await sampleTarget(target, existing) };
      }
      if (sourceConnector) input.sourceSamples = await sampleSource(sourceConnector, source);
      const planNotes: string[] = [...ddlWarnings];
      if (deps.patterns) input.patternHits = await guardedPatternHits(deps.patterns, source, planNotes);
      let plan = buildPlan(input);
      if (planNotes.length > 0) plan = { ...plan, warnings: [...plan.warnings, ...planNotes] };
      if (deps.model) {
        plan = await refineWithModel({ plan, source, target: input.target, model: deps.model, ...(input.sourceSamples ? { sourceSamples: input.sourceSamples } : {}) });
      }
      else {
        const unsure = plan.tables.flatMap((t) => t.columns).filter((m) => m.band === 'explicit').length + plan.unmappedSource.length;
        if (unsure > 0) plan = { ...plan, warnings: [...plan.warnings, `no LLM configured (OPENAI_API_KEY unset): the plan was made deterministically; ${unsure} column(s) or table(s) are unmapped or need explicit approval`] };
      }
      return { plan, plannedTarget: input.target };
  };
  return {
    async plan(input) {
      const result = await planOnce(input);
      return { ...result, plan: applyFeedback(result.plan, input.feedback ?? []) };
    },
  };
}

/** Pattern hits for every profiled source column, with their templates rendered and checked by the SQL allow-list. */
async function guardedPatternHits(patterns: PatternLibrary, source: Catalog, warnings: string[]): Promise<Map<string, GuardedPatternHit[]>> {
  const out = new Map<string, GuardedPatternHit[]>();
  for (const table of source.tables) {
    for (const c of table.columns) {
      if (!c.profile) continue;
      const hits: PatternHit[] = await patterns.search({ tableName: table.name, columnName: c.name, fingerprint: c.profile.fingerprint, semanticType: c.profile.semanticType });
      const guarded: GuardedPatternHit[] = [];
      for (const h of hits.filter((x) => x.score >= PATTERN_MIN_SCORE)) {
        const expression = h.transformation.replaceAll('{{col}}', `src.${quoteIdent(c.name)}`);
        const check = await checkExpression(expression, { allowedColumns: [c.name] });
        if (check.ok) guarded.push({ ...h, expression });
        else warnings.push(`pattern ${h.id} for ${table.name}.${c.name} ignored: its transformation fails the SQL allow-list (${check.reason})`);
      }
      if (guarded.length > 0) out.set(columnKey(table.name, c.name), guarded);
    }
  }
  return out;
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
