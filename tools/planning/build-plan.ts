// The planner: match source tables and columns to the target, attach transformations and rules, order the load.
import type { Catalog, ColumnDef, TableDef } from '../../core/catalog.js';
import { PlanError } from '../../core/errors.js';
import { bandOf, type ColumnMapping, type Plan, type TableMapping, type Thresholds } from '../../core/plan.js';
import { dependencyDag } from './dependency-dag.js';
import { nameScore } from './name-matcher.js';
import { pgTypeFor, pgTypeInfo, type PgFamily } from './pg-types.js';
import { columnTransform } from './transformations.js';

export interface BuildPlanInput {
  source: Catalog;
  target: Catalog;
  targetSchemaSource: Plan['targetSchemaSource'];
  /** DDL to apply before loading (generated schema). Default none. */
  targetDdl?: string[];
  thresholds: Thresholds;
}

/** Below this a table or column pair is not proposed at all. */
const MIN_TABLE_SCORE = 0.5;
const MIN_COLUMN_SCORE = 0.45;

/**
 * Greedy one-to-one assignment by descending score, first for tables, then for columns inside each table pair.
 * A generated target maps identically with confidence 1.
 */
export function buildPlan(input: BuildPlanInput): Plan {
  const generated = input.targetSchemaSource === 'generated';
  const tablePairs = assign(
    input.source.tables,
    input.target.tables,
    (s, t) => (generated ? { score: s.name === t.name || sameGeneratedName(s, t, input) ? 1 : 0, reason: 'target generated from source' } : nameScore(s.name, t.name)),
    MIN_TABLE_SCORE,
  );
  const warnings: string[] = [];
  const tables: TableMapping[] = [];
  for (const { a: src, b: tgt, score, reason } of tablePairs) {
    const columns = mapColumns(src, tgt, generated, input.thresholds);
    const unmappedRequired = tgt.columns.filter((c) => !c.nullable && c.defaultValue === null && !columns.some((m) => m.targetColumn === c.name));
    for (const c of unmappedRequired) {
      warnings.push(`target column ${tgt.name}.${c.name} is NOT NULL without a default and no source column maps to it: every row would fail`);
    }
    tables.push({
      source: src.name,
      target: tgt.name,
      confidence: round(score),
      rationale: reason,
      sourceKey: src.primaryKey,
      columns,
    });
    if (src.primaryKey.length === 0) warnings.push(`source table ${src.name} has no primary key: read in a stable order of all columns`);
    for (const c of src.columns) for (const note of c.notes ?? []) warnings.push(`source column ${src.name}.${c.name}: ${note}`);
  }
  if (tables.length === 0) {
    throw new PlanError(`no source table matches a target table (source ${input.source.database}, target ${input.target.database})`, {
      hint: 'check the target schema, or leave target.schema out to generate one from the source',
    });
  }
  const mappedSourceCols = new Set(tables.flatMap((t) => t.columns.map((c) => `${c.sourceTable}.${c.sourceColumn}`)));
  const mappedTargetCols = new Set(tables.flatMap((t) => t.columns.map((c) => `${c.targetTable}.${c.targetColumn}`)));
  const unmappedSource = input.source.tables.flatMap((t) =>
    tables.some((m) => m.source === t.name)
      ? t.columns.filter((c) => !c.isGenerated && !mappedSourceCols.has(`${t.name}.${c.name}`)).map((c) => `${t.name}.${c.name}`)
      : [t.name],
  );
  const unmappedTarget = input.target.tables.flatMap((t) =>
    tables.some((m) => m.target === t.name)
      ? t.columns.filter((c) => !mappedTargetCols.has(`${t.name}.${c.name}`)).map((c) => `${t.name}.${c.name}`)
      : [t.name],
  );
  const targetNames = tables.map((t) => t.target);
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

function sameGeneratedName(s: TableDef, t: TableDef, input: BuildPlanInput): boolean {
  // Generated tables are in source order, so position identifies them even after renaming.
  return input.source.tables.indexOf(s) === input.target.tables.indexOf(t);
}

function mapColumns(src: TableDef, tgt: TableDef, generated: boolean, thresholds: Thresholds): ColumnMapping[] {
  const srcCols = src.columns.filter((c) => !c.isGenerated);
  const pairs = assign(
    srcCols,
    tgt.columns.filter((c) => !c.isGenerated),
    (s, t) => {
      if (generated) return { score: srcCols.indexOf(s) === t.ordinal - 1 ? 1 : 0, reason: 'target generated from source' };
      const n = nameScore(s.name, t.name);
      const fit = typeFit(s, t);
      return { score: n.score * fit.factor, reason: fit.factor < 1 ? `${n.reason}; ${fit.reason}` : `${n.reason}; ${fit.reason}` };
    },
    MIN_COLUMN_SCORE,
  );
  return pairs
    .sort((x, y) => srcCols.indexOf(x.a) - srcCols.indexOf(y.a))
    .map(({ a: s, b: t, score, reason }) => {
      const { transformation, validationRules } = columnTransform({
        sourceColumn: s.name,
        sourceType: s.logicalType,
        targetColumn: t.name,
        targetType: t.declaredType,
        targetNullable: t.nullable,
      });
      const confidence = round(score);
      return {
        sourceTable: src.name,
        sourceColumn: s.name,
        targetTable: tgt.name,
        targetColumn: t.name,
        transformation,
        targetType: t.declaredType,
        confidence,
        band: bandOf(confidence, thresholds),
        origin: generated ? ('generated' as const) : ('heuristic' as const),
        rationale: reason,
        validationRules,
      };
    });
}

const familyOfSource = (c: ColumnDef): PgFamily => pgTypeInfo(pgTypeFor(c.logicalType)).family;

/** How well a source column's type fits a target column: 1 same family, 0.9 a lossless cast, 0.7 a risky one. */
function typeFit(s: ColumnDef, t: ColumnDef): { factor: number; reason: string } {
  const sf = familyOfSource(s);
  const tf = pgTypeInfo(t.declaredType).family;
  if (sf === tf) return { factor: 1, reason: `same type family (${tf})` };
  const lossless: Record<string, PgFamily[]> = {
    int: ['numeric', 'float', 'text', 'bool'],
    numeric: ['float', 'text'],
    float: ['numeric', 'text'],
    bool: ['int', 'text'],
    date: ['timestamp', 'text'],
    timestamp: ['text'],
    uuid: ['text'],
    json: ['text'],
    text: ['json', 'uuid', 'other'],
  };
  if (lossless[sf]?.includes(tf)) return { factor: 0.9, reason: `${sf} → ${tf} cast` };
  return { factor: 0.7, reason: `${sf} → ${tf} may fail for some values` };
}

interface Pair<A, B> {
  a: A;
  b: B;
  score: number;
  reason: string;
}

function assign<A, B>(as: A[], bs: B[], score: (a: A, b: B) => { score: number; reason: string }, min: number): Pair<A, B>[] {
  const candidates: Pair<A, B>[] = [];
  for (const a of as)
    for (const b of bs) {
      const s = score(a, b);
      if (s.score >= min) candidates.push({ a, b, score: s.score, reason: s.reason });
    }
  candidates.sort((x, y) => y.score - x.score);
  const usedA = new Set<A>();
  const usedB = new Set<B>();
  const out: Pair<A, B>[] = [];
  for (const c of candidates) {
    if (usedA.has(c.a) || usedB.has(c.b)) continue;
    usedA.add(c.a);
    usedB.add(c.b);
    out.push(c);
  }
  return out;
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
