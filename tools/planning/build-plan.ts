// The planner: match source tables and columns to the target, attach transformations and rules, order the load.
import { findTable, type Catalog, type ColumnDef } from '../../core/catalog.js';
import { PlanError } from '../../core/errors.js';
import { bandOf, type ColumnMapping, type MappingOrigin, type Plan, type TableMapping, type Thresholds } from '../../core/plan.js';
import type { PatternHit } from '../../core/profile.js';
import { constraintRules } from './constraint-rules.js';
import { dependencyDag } from './dependency-dag.js';
import { matchSchemas } from './matching/match-schemas.js';
import type { ColumnSamples, ValueFormat } from './matching/value-evidence.js';
import { columnTransform } from './transformations.js';

export interface BuildPlanInput {
  source: Catalog;
  target: Catalog;
  targetSchemaSource: Plan['targetSchemaSource'];
  /** DDL to apply before loading (generated schema). Default none. */
  targetDdl?: string[];
  thresholds: Thresholds;
  /** Sample values of the source columns (memory only), for value overlap and format detection. Default none. */
  sourceSamples?: ColumnSamples;
  /** Sample values of target columns, when the target already holds data. Default none. */
  targetSamples?: ColumnSamples;
  /** Pattern-library hits per source column whose transformations already passed the SQL allow-list. Default none. */
  patternHits?: ReadonlyMap<string, readonly GuardedPatternHit[]>;
}

/** A pattern hit whose template was rendered for the column and accepted by `expression-guard`. */
export interface GuardedPatternHit extends PatternHit {
  /** The rendered transformation (`{{col}}` replaced by the quoted source column), checked. */
  expression: string;
}

/**
 * Generated targets map by position with confidence 1; otherwise the matcher pairs tables (Hungarian, merged targets
 * allowed) and columns (Hungarian per table pair) from names, types, values, profiles, patterns and foreign keys.
 */
export function buildPlan(input: BuildPlanInput): Plan {
  const generated = input.targetSchemaSource === 'generated';
  const warnings: string[] = [];
  const tables: TableMapping[] = generated ? generatedTables(input) : matchedTables(input, warnings);
  for (const t of tables) {
    const tgt = findTable(input.target, t.target)!;
    const unmappedRequired = tgt.columns.filter((c) => !c.nullable && c.defaultValue === null && !c.isGenerated && !t.columns.some((m) => m.targetColumn === c.name));
    for (const c of unmappedRequired) {
      warnings.push(`target column ${tgt.name}.${c.name} is NOT NULL without a default and no column of ${t.source} maps to it: every row would fail`);
    }
    if (t.sourceKey.length === 0) warnings.push(`source table ${t.source} has no primary key: read in a stable order of all columns`);
    const srcTable = findTable(input.source, t.source);
    for (const c of srcTable?.columns ?? []) for (const note of c.notes ?? []) warnings.push(`source column ${t.source}.${c.name}: ${note}`);
  }
  if (tables.length === 0) {
    throw new PlanError(`no source table matches a target table (source ${input.source.database}, target ${input.target.database})`, {
      hint: 'check the target schema, or leave target.schema out to generate one from the source',
    });
  }
  const { unmappedSource, unmappedTarget } = unmappedColumns(tables, input.source, input.target);
  const targetNames = [...new Set(tables.map((t) => t.target))];
  const dag = dependencyDag(
    targetNames,
    input.target.tables.flatMap((t) => t.foreignKeys.map((fk) => ({ child: t.name, parent: fk.refTable }))),
  );
  return {
    tables,
    unmappedSource,
    unmappedTarget,
    phases: dag.phases,
    cyclic: dag.cyclic,
    targetDdl: input.targetDdl ?? [],
    targetSchemaSource: input.targetSchemaSource,
    thresholds: input.thresholds,
    warnings,
  };
}

/** Source columns and tables no mapping reads, and target columns and tables no mapping writes (`table.column`). */
export function unmappedColumns(tables: TableMapping[], source: Catalog, target: Catalog): { unmappedSource: string[]; unmappedTarget: string[] } {
  const mappedSourceCols = new Set(tables.flatMap((t) => t.columns.map((c) => `${c.sourceTable}.${c.sourceColumn}`)));
  const mappedTargetCols = new Set(tables.flatMap((t) => t.columns.map((c) => `${c.targetTable}.${c.targetColumn}`)));
  const unmappedSource = source.tables.flatMap((t) =>
    tables.some((m) => m.source === t.name)
      ? t.columns.filter((c) => !c.isGenerated && !mappedSourceCols.has(`${t.name}.${c.name}`)).map((c) => `${t.name}.${c.name}`)
      : [t.name],
  );
  const unmappedTarget = target.tables.flatMap((t) =>
    tables.some((m) => m.target === t.name)
      ? t.columns.filter((c) => !c.isGenerated && !mappedTargetCols.has(`${t.name}.${c.name}`)).map((c) => `${t.name}.${c.name}`)
      : [t.name],
  );
  return { unmappedSource, unmappedTarget };
}

function generatedTables(input: BuildPlanInput): TableMapping[] {
  const out: TableMapping[] = [];
  input.source.tables.forEach((src, i) => {
    const tgt = input.target.tables[i];
    if (!tgt) return;
    const srcCols = src.columns.filter((c) => !c.isGenerated);
    const columns = srcCols.flatMap((s, k) => {
      const t = tgt.columns.find((c) => c.ordinal === k + 1 && !c.isGenerated);
      return t ? [columnMapping(src.name, tgt.name, s, t, { confidence: 1, origin: 'generated', rationale: 'target generated from source' }, input)] : [];
    });
    out.push({ source: src.name, target: tgt.name, confidence: 1, rationale: 'target generated from source', sourceKey: src.primaryKey, columns });
  });
  return out;
}

function matchedTables(input: BuildPlanInput, warnings: string[]): TableMapping[] {
  const result = matchSchemas({
    source: input.source,
    target: input.target,
    ...(input.sourceSamples ? { sourceSamples: input.sourceSamples } : {}),
    ...(input.targetSamples ? { targetSamples: input.targetSamples } : {}),
    ...(input.patternHits ? { patternHits: input.patternHits } : {}),
  });
  return result.tables.map((tm) => {
    if (tm.merged) warnings.push(`source table ${tm.source.name} is merged into target table ${tm.target.name} together with other source tables: review the table mapping`);
    const columns = tm.columns.map((m) => {
      const pattern = m.pattern as GuardedPatternHit | undefined;
      return columnMapping(
        tm.source.name,
        tm.target.name,
        m.source,
        m.target,
        { confidence: m.confidence, origin: m.origin, rationale: m.reasons.join('; '), ...(m.sourceFormat ? { sourceFormat: m.sourceFormat } : {}), ...(m.codes ? { codes: m.codes } : {}), ...(pattern ? { transformation: pattern.expression } : {}) },
        input,
      );
    });
    return { source: tm.source.name, target: tm.target.name, confidence: tm.confidence, rationale: tm.reason, sourceKey: tm.source.primaryKey, columns };
  });
}

interface MappingDecision {
  confidence: number;
  origin: MappingOrigin;
  rationale: string;
  sourceFormat?: ValueFormat;
  codes?: ReadonlyMap<string, string>;
  /** A transformation that already passed the SQL allow-list (pattern, LLM, user); default: Sensei's own. */
  transformation?: string;
}

/**
 * One column mapping with Sensei's transformation and validation rules (or a checked one from elsewhere); with the
 * target catalog, also the `unique` and `fk` rules of the target column's keys.
 */
export function columnMapping(
  sourceTable: string,
  targetTable: string,
  s: ColumnDef,
  t: ColumnDef,
  d: MappingDecision,
  input: Pick<BuildPlanInput, 'thresholds'> & { target?: Catalog },
): ColumnMapping {
  const own = columnTransform({
    sourceColumn: s.name,
    sourceType: s.logicalType,
    targetColumn: t.name,
    targetType: t.declaredType,
    targetNullable: t.nullable,
    ...(d.sourceFormat ? { sourceFormat: d.sourceFormat } : {}),
    ...(d.codes ? { codes: d.codes } : {}),
  });
  const confidence = round(d.confidence);
  const keys = input.target ? findTable(input.target, targetTable) : undefined;
  return {
    sourceTable,
    sourceColumn: s.name,
    targetTable,
    targetColumn: t.name,
    transformation: d.transformation ?? own.transformation,
    targetType: t.declaredType,
    confidence,
    band: bandOf(confidence, input.thresholds),
    origin: d.origin,
    rationale: d.rationale,
    validationRules: keys ? [...own.validationRules, ...constraintRules(s.name, keys, t.name)] : own.validationRules,
  };
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
