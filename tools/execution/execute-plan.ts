// Execute an approved plan: prepare the target, load phase by phase, restore constraints, prove the counts.
import type { Catalog } from '../../core/catalog.js';
import { AccountingError, PlanError } from '../../core/errors.js';
import type { Plan, TableMapping } from '../../core/plan.js';
import type { ErrorSink, TableOutcome, TableProgress } from '../../core/run.js';
import type { SourceConnector, TargetConnector } from '../../connectors/connector.js';
import { qualified } from '../planning/identifiers.js';
import { liftForeignKeys, reinstateForeignKeysUnvalidated, restoreForeignKeys } from './deferred-constraints.js';
import { loadTable } from './load-table.js';

export interface ExecutePlanDeps {
  runId: string;
  source: SourceConnector;
  target: TargetConnector;
  errors: ErrorSink;
  /** Rows per batch. Default 10,000. */
  batchSize?: number;
  onProgress?: (p: TableProgress) => void;
}

export async function executePlan(deps: ExecutePlanDeps, plan: Plan, sourceCatalog: Catalog): Promise<TableOutcome[]> {
  await prepareTarget(deps.target, plan);
  const targetCatalog = await deps.target.catalog();
  const lifted = await liftForeignKeys(deps.target, targetCatalog, plan.tables.map((t) => t.target));
  const outcomes = new Map<string, TableOutcome>();
  let restored = false;
  try {
    for (const phase of plan.phases) {
      for (const targetName of phase) {
        const mapping = plan.tables.find((t) => t.target === targetName);
        if (!mapping) continue;
        const sourceTable = sourceCatalog.tables.find((t) => t.name === mapping.source);
        if (!sourceTable) throw new PlanError(`source table ${mapping.source} is in the plan but no longer in the source catalog`, { hint: 're-run the analysis' });
        outcomes.set(mapping.target, await loadTable(deps, mapping, sourceTable));
      }
    }
    const removals = await restoreForeignKeys(deps.target, lifted);
    restored = true;
    // Indexes of a generated schema: built once over the loaded rows instead of maintained row by row.
    for (const stmt of plan.postLoadDdl ?? []) await deps.target.query(stmt);
    for (const removal of removals) {
      const outcome = outcomes.get(removal.table);
      if (!outcome) continue;
      const mapping = plan.tables.find((t) => t.target === removal.table)!;
      await deps.errors.add(
        deps.runId,
        removal.entries.map((e) => ({
          ...e,
          table: outcome.source,
          column: e.column?.split(',').map((c) => sourceName(mapping, c)).join(',') ?? null,
          key: inSourceTerms(mapping, e.key),
          row: inSourceTerms(mapping, e.row),
        })),
      );
      outcome.rows_written -= removal.entries.length;
      outcome.rows_errored += removal.entries.length;
      deps.onProgress?.({ table: outcome.source, rowsRead: outcome.rows_read, rowsTotal: outcome.rows_read, rowsWritten: outcome.rows_written, rowsErrored: outcome.rows_errored, done: true });
    }
  } finally {
    // A failed load must not leave the target without its foreign keys when they can be put back.
    if (!restored) await reinstateForeignKeysUnvalidated(deps.target, lifted).catch(() => undefined);
  }
  // Load order: the order the tables were written in, parents first.
  const result = [...outcomes.values()];
  for (const o of result) {
    if (o.rows_read !== o.rows_written + o.rows_errored) {
      throw new AccountingError(
        `table ${o.source}: read ${o.rows_read} rows but wrote ${o.rows_written} and queued ${o.rows_errored}`,
        { hint: 'the target is not trustworthy: do not use it; report this run id' },
      );
    }
  }
  return result;
}

/** Applies the plan's DDL when the target lacks the tables, and refuses to load into tables that hold rows. */
async function prepareTarget(target: TargetConnector, plan: Plan): Promise<void> {
  const existing = new Set((await target.catalog()).tables.map((t) => t.name));
  const planned = plan.tables.map((t) => t.target);
  if (plan.targetDdl.length > 0) {
    const present = planned.filter((t) => existing.has(t));
    if (present.length === 0) {
      await target.transaction(async (s) => {
        for (const stmt of plan.targetDdl) await s.query(stmt);
      });
    } else if (present.length < planned.length) {
      throw new PlanError(
        `the target already has some of the planned tables (${present.join(', ')}) but not all of them`,
        { hint: 'point the target at a fresh database, or create all tables of the target schema before running' },
      );
    }
  }
  for (const t of planned) {
    const res = await target.query<{ has: string }>(`SELECT EXISTS (SELECT 1 FROM ${qualified(target.schema, t)}) AS has`);
    const has = res.rows[0]?.has;
    if (has === 't' || has === 'true' || (has as unknown) === true) {
      throw new PlanError(`target table ${t} already holds rows: Sensei does not append to loaded tables, so nothing can be duplicated`, {
        hint: `empty ${t} (or use a fresh target database) and run again`,
      });
    }
  }
}

const sourceName = (mapping: TableMapping, targetColumn: string): string =>
  mapping.columns.find((c) => c.targetColumn === targetColumn)?.sourceColumn ?? targetColumn;

/** Rows removed from the target are reported like rows rejected while loading: source column names, text values. */
function inSourceTerms(mapping: TableMapping, values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [sourceName(mapping, k), v === null || v === undefined ? null : typeof v === 'object' ? JSON.stringify(v) : String(v)]),
  );
}
