// The LLM step: columns the deterministic matcher could not place above the review threshold are put to the model.
import { findTable, type Catalog, type ColumnDef, type TableDef } from '../../core/catalog.js';
import type { ColumnMapping, Plan, TableMapping } from '../../core/plan.js';
import { buildMappingPrompt, type PromptColumn } from '../../prompts/mapping-prompt.js';
import type { MappingModel, MappingProposal } from '../llm/mapping-model.js';
import { columnMapping, unmappedColumns } from './build-plan.js';
import { checkExpression } from './expression-guard.js';
import { columnKey, detectFormat, type ColumnSamples } from './matching/value-evidence.js';

export interface RefineOptions {
  plan: Plan;
  source: Catalog;
  target: Catalog;
  model: MappingModel;
  /** At most this many model calls per plan. Default 200. */
  maxCalls?: number;
  /** Source value samples (memory only, never sent to the model): the detected format picks Sensei's own cast. */
  sourceSamples?: ColumnSamples;
}

/** A model's answer is trusted at most this much: an LLM proposal is never auto-approved. */
const LLM_CONFIDENCE_CAP = 0.95;
/** Tables whose columns are put to the model at the same time. */
const TABLE_CONCURRENCY = 4;
/** A proposal whose SQL the allow-list rejected keeps its target but needs explicit approval. */
const REJECTED_SQL_CAP = 0.79;

const summary = (c: ColumnDef): string | undefined => {
  const p = c.profile;
  if (!p) return undefined;
  const parts = [`inferred ${p.inferredType.kind}`, `nulls ${(p.nullRatio * 100).toFixed(0)}%`, `distinct ${(p.distinctRatio * 100).toFixed(0)}%`];
  if (p.format) parts.push(`format ${p.format}`);
  return parts.join(', ');
};

const promptColumn = (table: TableDef, c: ColumnDef): PromptColumn => {
  const s = summary(c);
  return { name: `${table.name}.${c.name}`, declaredType: c.declaredType, ...(c.profile ? { semanticType: c.profile.semanticType } : {}), ...(s ? { summary: s } : {}) };
};

/**
 * Asks the model about every source column of a matched table pair that is unmapped or below the review threshold.
 * The plan survives every bad answer: a failed call, malformed output, an unknown target column or SQL the
 * allow-list rejects each leave a warning naming the column and keep (or cap) the deterministic result.
 */
export async function refineWithModel(options: RefineOptions): Promise<Plan> {
  const { plan, model } = options;
  const warnings = [...plan.warnings];
  const maxCalls = options.maxCalls ?? 200;
  let calls = 0;
  let stopped = false;
  // Tables are independent: up to TABLE_CONCURRENCY of them talk to the model at once; columns of one table in order.
  const refineTable = async (tm: TableMapping, warnings: string[]): Promise<TableMapping> => {
    const src = findTable(options.source, tm.source);
    const tgt = findTable(options.target, tm.target);
    if (!src || !tgt) return tm;
    const columns: ColumnMapping[] = [...tm.columns];
    const sure = (m: ColumnMapping): boolean => m.confidence >= plan.thresholds.reviewAbove;
    for (const sc of src.columns.filter((c) => !c.isGenerated)) {
      const current = columns.find((m) => m.sourceColumn === sc.name);
      if (current && sure(current)) continue;
      if (calls >= maxCalls) {
        if (!stopped) warnings.push(`LLM: stopped after ${maxCalls} calls; the remaining unsure columns were planned deterministically`);
        stopped = true;
        break;
      }
      const taken = new Set(columns.filter((m) => sure(m) && m !== current).map((m) => m.targetColumn));
      const candidates = tgt.columns.filter((c) => !c.isGenerated && !taken.has(c.name));
      if (candidates.length === 0) continue;
      const where = `${tm.source}.${sc.name}`;
      let proposal: MappingProposal;
      calls++;
      try {
        proposal = await model.propose(
          buildMappingPrompt({
            source: promptColumn(src, sc),
            candidates: candidates.map((c) => promptColumn(tgt, c)),
            ...(current ? { heuristic: { target: `${current.targetTable}.${current.targetColumn}`, confidence: current.confidence } } : {}),
          }),
        );
      } catch (e) {
        const why = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200);
        warnings.push(`LLM: no usable answer for ${where} (${why}); kept the deterministic result`);
        continue;
      }
      if (proposal.target === null) continue;
      const dot = proposal.target.lastIndexOf('.');
      const table = dot < 0 ? tgt.name : proposal.target.slice(0, dot);
      const column = dot < 0 ? proposal.target : proposal.target.slice(dot + 1);
      const tc = table === tgt.name ? candidates.find((c) => c.name === column) : undefined;
      if (!tc) {
        warnings.push(`LLM proposed ${proposal.target} for ${where}, which is not a free column of target table ${tgt.name}: ignored`);
        continue;
      }
      let confidence = Math.min(proposal.confidence, LLM_CONFIDENCE_CAP);
      let rationale = `LLM (${model.description}): ${proposal.rationale}`;
      let transformation: string | undefined;
      if (proposal.transformation !== null && proposal.transformation.trim() !== '') {
        const check = await checkExpression(proposal.transformation, { allowedColumns: [sc.name] });
        if (check.ok) transformation = proposal.transformation;
        else {
          confidence = Math.min(confidence, REJECTED_SQL_CAP);
          rationale += `; its SQL was rejected (${check.reason}), Sensei's own transformation is used`;
          warnings.push(`LLM transformation for ${where} → ${tgt.name}.${tc.name} rejected by the SQL allow-list: ${check.reason}; Sensei's own transformation is used`);
        }
      }
      const values = options.sourceSamples?.get(columnKey(tm.source, sc.name));
      const sourceFormat = values ? detectFormat(values) : undefined;
      const mapping = columnMapping(
        tm.source,
        tm.target,
        sc,
        tc,
        { confidence, origin: 'llm', rationale, ...(transformation ? { transformation } : {}), ...(sourceFormat ? { sourceFormat } : {}) },
        { thresholds: plan.thresholds, target: options.target },
      );
      // The model's choice replaces this column's unsure mapping and any unsure mapping onto the same target column.
      for (let i = columns.length - 1; i >= 0; i--) {
        const m = columns[i]!;
        if (m.sourceColumn === sc.name || m.targetColumn === tc.name) columns.splice(i, 1);
      }
      columns.push(mapping);
    }
    const order = src.columns.map((c) => c.name);
    columns.sort((a, b) => order.indexOf(a.sourceColumn) - order.indexOf(b.sourceColumn));
    return { ...tm, columns };
  };
  const tables: TableMapping[] = new Array<TableMapping>(plan.tables.length);
  const tableWarnings = plan.tables.map((): string[] => []);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < plan.tables.length) {
      const i = next++;
      tables[i] = await refineTable(plan.tables[i]!, tableWarnings[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(TABLE_CONCURRENCY, plan.tables.length) }, worker));
  warnings.push(...tableWarnings.flat());
  return { ...plan, tables, ...unmappedColumns(tables, options.source, options.target), warnings };
}
