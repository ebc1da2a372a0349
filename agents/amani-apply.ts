// AMANI acting on a stakeholder's action: approve, modify (re-checked by the SQL allow-list), reject, set strategy, abort.
import { scanSync } from 'libpg-query';
import type { Catalog, TableDef } from '../core/catalog.js';
import type { StrategyConfig } from '../core/config.js';
import { allMappings, bandOf, type ColumnMapping, type Plan, type TableMapping } from '../core/plan.js';
import { checkExpression, loadExpressionParser } from '../tools/planning/expression-guard.js';
import { quoteIdent } from '../tools/planning/identifiers.js';
import { constraintRules } from '../tools/planning/constraint-rules.js';
import { columnTransform } from '../tools/planning/transformations.js';
import { mappingKey, pendingMappings, type StakeholderAction } from './amani.js';
import type { MapperFeedback } from './mapper.js';

export interface ApplyContext {
  plan: Plan;
  sourceCatalog: Catalog;
  plannedTarget: Catalog;
  strategy: StrategyConfig;
  approvedKeys: readonly string[];
}

/** One audit-log entry: who did what, and the state before and after. */
export interface AuditEntry {
  decision: StakeholderAction['action'];
  by: string;
  reason?: string;
  detail: { action: StakeholderAction; before: unknown; after: unknown };
}

export interface AppliedAction {
  /** `refused`: nothing changed (the reply says why); `replan`: back to the mapper; `abort`: the run ends rejected. */
  outcome: 'applied' | 'refused' | 'replan' | 'abort';
  reply: string;
  plan: Plan;
  approvedKeys: string[];
  strategy: StrategyConfig;
  feedback: MapperFeedback[];
  audit: AuditEntry | null;
  /** Approved or corrected mappings: what the pattern library learns. */
  learned: ColumnMapping[];
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

function findTables(plan: Plan, name: string): TableMapping[] {
  return plan.tables.filter((t) => same(t.source, name) || same(t.target, name));
}

function findColumn(table: TableMapping, name: string): ColumnMapping | undefined {
  return table.columns.find((c) => same(c.sourceColumn, name)) ?? table.columns.find((c) => same(c.targetColumn, name));
}

const describe = (m: ColumnMapping): string => `${m.sourceTable}.${m.sourceColumn} → ${m.targetTable}.${m.targetColumn}`;

function tableNames(plan: Plan): string {
  return plan.tables.map((t) => (t.source === t.target ? t.source : `${t.source} (→ ${t.target})`)).join(', ');
}

/** Replaces the placeholder `x` (an unquoted, unqualified identifier) with the staged source column. */
export function bindPlaceholder(expression: string, sourceColumn: string): string {
  const tokens = scanSync(expression).tokens;
  let out = '';
  let at = 0;
  tokens.forEach((t, i) => {
    const prev = tokens[i - 1];
    const isPlaceholder = t.tokenName === 'IDENT' && expression.slice(t.start, t.end) === 'x' && !(prev && expression.slice(prev.start, prev.end) === '.');
    if (!isPlaceholder) return;
    out += `${expression.slice(at, t.start)}src.${quoteIdent(sourceColumn)}`;
    at = t.end;
  });
  return out + expression.slice(at);
}

function replaceMapping(plan: Plan, old: ColumnMapping, next: ColumnMapping | null): Plan {
  const tables = plan.tables.map((t) =>
    t.columns.includes(old) ? { ...t, columns: next ? t.columns.map((c) => (c === old ? next : c)) : t.columns.filter((c) => c !== old) } : t,
  );
  return { ...plan, tables };
}

/** Acts on one action. Never throws for a bad request: a refusal changes nothing and explains itself. */
export async function applyAction(ctx: ApplyContext, action: StakeholderAction): Promise<AppliedAction> {
  const base: AppliedAction = {
    outcome: 'refused',
    reply: '',
    plan: ctx.plan,
    approvedKeys: [...ctx.approvedKeys],
    strategy: ctx.strategy,
    feedback: [],
    audit: null,
    learned: [],
  };
  const refuse = (reply: string): AppliedAction => ({ ...base, reply });

  switch (action.action) {
    case 'approve': {
      let tables = ctx.plan.tables;
      if (action.table !== undefined) {
        tables = findTables(ctx.plan, action.table);
        if (tables.length === 0) return refuse(`There is no table "${action.table}" in the plan. Tables: ${tableNames(ctx.plan)}.`);
      }
      if (action.within) {
        const within = action.within;
        tables = tables.filter((t) => within.some((w) => same(w, t.source) || same(w, t.target)));
      }
      let candidates = tables.flatMap((t) => t.columns);
      if (action.column !== undefined) {
        const m = tables.map((t) => findColumn(t, action.column!)).find((c) => c !== undefined);
        if (!m) return refuse(`There is no mapped column "${action.column}" in ${action.table}. Ask "what is unmapped?" to see the columns without a mapping.`);
        candidates = [m];
      }
      if (action.band) candidates = candidates.filter((m) => m.band === action.band);
      const pendingKeys = new Set(pendingMappings(ctx.plan, ctx.approvedKeys).map(mappingKey));
      const approved = candidates.filter((m) => pendingKeys.has(mappingKey(m)));
      if (approved.length === 0) return refuse('Nothing to approve there: those mappings are already approved (or outside your tables).');
      const approvedKeys = [...ctx.approvedKeys, ...approved.map(mappingKey)];
      const left = pendingMappings(ctx.plan, approvedKeys).length;
      return {
        ...base,
        outcome: 'applied',
        approvedKeys,
        learned: approved,
        reply: `Approved ${approved.length} mapping(s) (${approved.slice(0, 5).map(describe).join('; ')}${approved.length > 5 ? '; …' : ''}). ${left === 0 ? 'Nothing is left to approve: execution starts.' : `${left} still need approval.`}`,
        audit: { decision: 'approve', by: action.by, detail: { action, before: null, after: approved.map(mappingKey) } },
      };
    }
    case 'modify': {
      const table = findTables(ctx.plan, action.table)[0];
      if (!table) return refuse(`There is no table "${action.table}" in the plan. Tables: ${tableNames(ctx.plan)}.`);
      const old = findColumn(table, action.column);
      if (!old) return refuse(`There is no mapped column "${action.column}" in ${table.source}.`);
      const src = ctx.sourceCatalog.tables.find((t) => t.name === table.source);
      const tgt = ctx.plannedTarget.tables.find((t) => t.name === table.target);
      if (!src || !tgt) return refuse(`The catalog of ${table.source} → ${table.target} is missing from the run; nothing changed.`);
      const next = action.target_column !== undefined ? retarget(old, action.target_column, table, src, tgt) : await retransform(old, action.transformation!, src);
      if (typeof next === 'string') return refuse(next);
      const plan = withUnmapped(replaceMapping(ctx.plan, old, next), ctx.sourceCatalog, ctx.plannedTarget);
      const approvedKeys = [...ctx.approvedKeys, mappingKey(next)];
      const left = pendingMappings(plan, approvedKeys).length;
      const before = { targetColumn: old.targetColumn, transformation: old.transformation };
      const after = { targetColumn: next.targetColumn, transformation: next.transformation };
      return {
        ...base,
        outcome: 'applied',
        plan,
        approvedKeys,
        learned: [next],
        reply: `Changed ${describe(old)}: now ${describe(next)} with ${next.transformation}. ${left === 0 ? 'Nothing is left to approve: execution starts.' : `${left} still need approval.`}`,
        audit: { decision: 'modify', by: action.by, detail: { action, before, after } },
      };
    }
    case 'reject': {
      let scope: string;
      let feedback: MapperFeedback;
      if (action.table === undefined) {
        scope = 'the whole plan';
        feedback = { by: action.by, reason: action.reason };
      } else {
        const table = findTables(ctx.plan, action.table)[0];
        if (!table) return refuse(`There is no table "${action.table}" in the plan. Tables: ${tableNames(ctx.plan)}.`);
        if (action.column !== undefined) {
          const m = findColumn(table, action.column);
          if (!m) return refuse(`There is no mapped column "${action.column}" in ${table.source}.`);
          scope = describe(m);
          feedback = { by: action.by, reason: action.reason, sourceTable: m.sourceTable, sourceColumn: m.sourceColumn, targetColumn: m.targetColumn };
        } else {
          scope = `${table.source} → ${table.target}`;
          feedback = { by: action.by, reason: action.reason, sourceTable: table.source };
        }
      }
      // Approvals inside what was rejected no longer stand: the new plan of that part is looked at again.
      const rejected = (key: string): boolean =>
        feedback.sourceTable === undefined || (key.startsWith(`${feedback.sourceTable}.`) && (feedback.sourceColumn === undefined || key.startsWith(`${feedback.sourceTable}.${feedback.sourceColumn}->`)));
      return {
        ...base,
        outcome: 'replan',
        approvedKeys: ctx.approvedKeys.filter((k) => !rejected(k)),
        feedback: [feedback],
        reply: `Rejected ${scope}: "${action.reason}". The mapper plans again with your reason, then I will show you the new plan.`,
        audit: { decision: 'reject', by: action.by, reason: action.reason, detail: { action, before: scope, after: 'replan' } },
      };
    }
    case 'set_strategy': {
      const { action: _a, by, ...changes } = action;
      const keys = Object.keys(changes) as (keyof typeof changes)[];
      if (keys.length === 0) return refuse('Which parameter? I can set batch size, checkpoint interval, auto-approve threshold, review threshold, concurrency and error policy.');
      const strategy: StrategyConfig = { ...ctx.strategy, ...changes };
      if (strategy.review_above > strategy.auto_approve_above) {
        return refuse(`The review threshold (${strategy.review_above}) cannot be above the auto-approve threshold (${strategy.auto_approve_above}); nothing changed.`);
      }
      const thresholds = { autoApproveAbove: strategy.auto_approve_above, reviewAbove: strategy.review_above };
      const plan: Plan = {
        ...ctx.plan,
        thresholds,
        tables: ctx.plan.tables.map((t) => ({ ...t, columns: t.columns.map((c) => (c.origin === 'user' ? c : { ...c, band: bandOf(c.confidence, thresholds) })) })),
      };
      const before = Object.fromEntries(keys.map((k) => [k, ctx.strategy[k]]));
      return {
        ...base,
        outcome: 'applied',
        plan,
        strategy,
        reply: `Strategy set: ${keys.map((k) => `${k} ${shown(before[k])} → ${shown(strategy[k])}`).join(', ')}. ${pendingMappings(plan, ctx.approvedKeys).length} mapping(s) need approval.`,
        audit: { decision: 'set_strategy', by, detail: { action, before, after: changes } },
      };
    }
    case 'abort':
      return {
        ...base,
        outcome: 'abort',
        reply: `The run is stopped${action.reason ? `: ${action.reason}` : ''}. Nothing was written to the target.`,
        audit: { decision: 'abort', by: action.by, ...(action.reason ? { reason: action.reason } : {}), detail: { action, before: 'awaiting_approval', after: 'rejected' } },
      };
  }
}

function retarget(old: ColumnMapping, targetColumn: string, table: TableMapping, src: TableDef, tgt: TableDef): ColumnMapping | string {
  const col = tgt.columns.find((c) => same(c.name, targetColumn));
  if (!col) return `${tgt.name} has no column "${targetColumn}"; its columns are ${tgt.columns.map((c) => c.name).join(', ')}. Nothing changed.`;
  if (col.isGenerated) return `${tgt.name}.${col.name} is generated by the database and cannot be loaded. Nothing changed.`;
  const taken = table.columns.find((c) => c !== old && c.targetColumn === col.name);
  if (taken) return `${tgt.name}.${col.name} is already mapped from ${taken.sourceColumn}; change or reject that mapping first. Nothing changed.`;
  const sourceCol = src.columns.find((c) => c.name === old.sourceColumn);
  if (!sourceCol) return `The source column ${old.sourceColumn} is missing from the catalog. Nothing changed.`;
  const t = columnTransform({ sourceColumn: sourceCol.name, sourceType: sourceCol.logicalType, targetColumn: col.name, targetType: col.declaredType, targetNullable: col.nullable });
  return {
    ...old,
    targetColumn: col.name,
    targetType: col.declaredType,
    transformation: t.transformation,
    // The new target column's keys come with it (and the old column's go): the same rules the planner gives.
    validationRules: [...t.validationRules, ...constraintRules(sourceCol.name, tgt, col.name)],
    confidence: 1,
    band: 'auto',
    origin: 'user',
    rationale: `set by a stakeholder (was ${old.targetColumn})`,
  };
}

async function retransform(old: ColumnMapping, expression: string, src: TableDef): Promise<ColumnMapping | string> {
  await loadExpressionParser();
  let bound: string;
  try {
    bound = bindPlaceholder(expression, old.sourceColumn);
  } catch (e) {
    return `I cannot use "${expression}": it does not parse (${e instanceof Error ? e.message : String(e)}). Nothing changed.`;
  }
  const check = await checkExpression(bound, { allowedColumns: src.columns.map((c) => c.name) });
  if (!check.ok) return `I cannot use "${expression}" for ${old.sourceTable}.${old.sourceColumn}: ${check.reason}. Nothing changed.`;
  return {
    ...old,
    // The cast makes the expression's type the target column's, whatever the expression returns.
    transformation: `CAST((${bound}) AS ${old.targetType})`,
    confidence: 1,
    band: 'auto',
    origin: 'user',
    rationale: `transformation set by a stakeholder (was ${old.transformation})`,
  };
}

/** Recomputes the unmapped lists after a column moved. */
function withUnmapped(plan: Plan, source: Catalog, target: Catalog): Plan {
  const mappedSrc = new Set(allMappings(plan).map((m) => `${m.sourceTable}.${m.sourceColumn}`));
  const mappedTgt = new Set(allMappings(plan).map((m) => `${m.targetTable}.${m.targetColumn}`));
  const srcTables = new Set(plan.tables.map((t) => t.source));
  const tgtTables = new Set(plan.tables.map((t) => t.target));
  return {
    ...plan,
    unmappedSource: source.tables.flatMap((t) => (srcTables.has(t.name) ? t.columns.filter((c) => !c.isGenerated && !mappedSrc.has(`${t.name}.${c.name}`)).map((c) => `${t.name}.${c.name}`) : [t.name])),
    unmappedTarget: target.tables.flatMap((t) => (tgtTables.has(t.name) ? t.columns.filter((c) => !mappedTgt.has(`${t.name}.${c.name}`)).map((c) => `${t.name}.${c.name}`) : [t.name])),
  };
}

/** A strategy value in a reply: numbers and words as they are, an object (error policy) as JSON. */
function shown(v: unknown): string {
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}
