// Execute an approved plan: prepare the target, load every table largest first (resuming from checkpoints), restore
// constraints, prove the counts.
import type { Catalog, TableDef } from '../../core/catalog.js';
import type { StrategyConfig } from '../../core/config.js';
import { AccountingError, ErrorPolicyError, PlanError } from '../../core/errors.js';
import type { Plan, TableMapping } from '../../core/plan.js';
import type { ErrorSink, RetryNotice, TableOutcome, TableProgress } from '../../core/run.js';
import type { SourceConnector, TargetConnector, TargetSession } from '../../connectors/connector.js';
import { qualified } from '../planning/identifiers.js';
import { ensureCheckpointTables, readCheckpoints, readRunState, writeCheckpoint, writeRunState } from './checkpoints.js';
import { dropForeignKeysAgain, dropKeysAgain, liftForeignKeys, liftKeys, reinstateForeignKeysUnvalidated, restoreForeignKeys, restoreKeys, validateForeignKeys, type LiftedForeignKey, type LiftedKey, type OrphanRemoval } from './deferred-constraints.js';
import { loadTable, readSource, resumesInPlace, withRetries } from './load-table.js';
import { settleAll, slots, turns, type Slot } from './slots.js';

export interface ExecutePlanDeps {
  runId: string;
  source: SourceConnector;
  target: TargetConnector;
  errors: ErrorSink;
  /** Rows per batch. Default 10,000. */
  batchSize?: number;
  /** Rows per checkpoint. Default 100,000. */
  checkpointEvery?: number;
  /** Tables of one phase loaded at once. Default 2 (1 when the target has no concurrent sessions). */
  concurrency?: number;
  /** Default `continue`. */
  errorPolicy?: StrategyConfig['error_policy'];
  /** Retries of a segment after a lost connection. Default 5. */
  maxRetries?: number;
  /** First pause before a retry. Default 500 ms. */
  retryBackoffMs?: number;
  /** See `strategy.direct_copy`. Default true. */
  directCopy?: boolean;
  /** Told which path each batch took (direct COPY or staged) and why. */
  onPath?: (table: string, path: 'direct' | 'staged', why: string | null) => void;
  onProgress?: (p: TableProgress) => void;
  /** Told before each retry after a transient failure (`RetryNotice`). */
  onRetry?: (notice: RetryNotice, error: unknown) => void;
}

/** The execution options of a run's strategy (runs stored before a key existed get its default). */
export function executionStrategy(strategy: Partial<StrategyConfig>): Pick<ExecutePlanDeps, 'batchSize' | 'checkpointEvery' | 'concurrency' | 'errorPolicy' | 'maxRetries' | 'retryBackoffMs' | 'directCopy'> {
  return {
    batchSize: strategy.batch_size ?? 10_000,
    checkpointEvery: strategy.checkpoint_every ?? 100_000,
    concurrency: strategy.concurrency ?? 2,
    errorPolicy: strategy.error_policy ?? 'continue',
    maxRetries: strategy.max_retries ?? 5,
    retryBackoffMs: strategy.retry_backoff_ms ?? 500,
    directCopy: strategy.direct_copy ?? true,
  };
}

/**
 * Loads every table of the plan. Run again with the same run id after a crash or a stop, it continues from the
 * checkpoints in the target: finished tables are not touched, unfinished ones continue after their last segment.
 */
export async function executePlan(deps: ExecutePlanDeps, plan: Plan, sourceCatalog: Catalog): Promise<TableOutcome[]> {
  const order = loadOrder(plan, sourceCatalog);
  const missing = order.filter((x) => x.sourceTable === undefined).map((x) => x.mapping.source);
  if (missing.length > 0) {
    throw new PlanError(`source table${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} in the plan but no longer in the source catalog; nothing was loaded`, { hint: 're-run the analysis' });
  }
  await ensureCheckpointTables(deps.target);
  const checkpoints = await readCheckpoints(deps.target, deps.runId);
  const runState = await readRunState(deps.target, deps.runId);
  await prepareTarget(deps.target, plan, new Set(checkpoints.keys()), runState !== null);
  const lifted = await liftOnce(deps, plan, runState?.liftedFks ?? null, runState?.constraintsRestored ?? false);
  const outcomes = new Map<string, TableOutcome>();
  /** Source row counts taken as each table's load ended (the proof counts the others). */
  const sourceCounts = new Map<string, number>();
  const concurrency = deps.target.capabilities.supportsConcurrentSessions ? Math.max(1, deps.concurrency ?? 2) : 1;
  /** Where the source is counted (for the proof): as many at a time as the load reads, whatever the target allows. */
  const sourceSlot = slots(Math.max(1, deps.concurrency ?? 2));
  // Rows this run queued before a stop count against the policy too: a resume does not start the count afresh
  // (except those of a table that will be reloaded whole: its queued rows are forgotten and queued again).
  const queuedBefore = [...checkpoints.values()]
    .filter((cp) => {
      const table = sourceCatalog.tables.find((t) => t.name === cp.sourceTable);
      return cp.done || (table !== undefined && resumesInPlace(deps.source, table));
    })
    .reduce((n, cp) => n + cp.rowsErrored, 0);
  const policy = errorPolicyGuard(deps.runId, deps.errorPolicy ?? 'continue', queuedBefore);
  let restored = runState?.constraintsRestored ?? false;
  try {
    // Every foreign key of a loaded table (and pointing at one) is lifted for the load, so the DAG's phases order
    // nothing here: tables and the key ranges of large tables share one pool of `concurrency` slots, largest table
    // first (`loadOrder`), so the longest does not start last and leave the other slots idle at the end.
    // Preparations (cutting a table into key ranges) run in their own slots; the turns queue the tables' units in
    // load order whatever order those end in.
    const slot = slots(concurrency);
    const prepareSlot = slots(concurrency);
    const turn = turns(order.length);
    const keysBack = new Set<LiftedKey>();
    await settleAll(
      order.map(async ({ mapping, sourceTable }, i) => {
        const outcome = await loadTable({ ...deps, afterSegment: policy, slot, prepareSlot, turn: turn[i]!, parts: concurrency }, mapping, sourceTable!);
        outcomes.set(mapping.target, outcome);
        // While other tables load: the table's own keys go back (a key build overlaps their loads instead of waiting
        // for the last of them), and the source is counted for the end-of-run proof; both retried after a lost
        // connection, as the load's segments are.
        const keys = lifted.keys.filter((k) => k.table === mapping.target);
        await Promise.all([
          !restored && keys.length > 0 ? withRetries(deps, mapping, () => restoreTableKeys(deps, plan, keys)).then(() => keys.forEach((k) => keysBack.add(k))) : null,
          sourceSlot(() => withRetries(deps, mapping, () => readSource(() => deps.source.countRows(sourceTable!)))).then((n) => sourceCounts.set(mapping.source, n)),
        ]);
      }),
    );
    // Indexes of a generated schema: built once over the loaded rows instead of maintained row by row (idempotent on
    // resume), alongside the foreign keys' validations when those run side by side, else after them.
    // Both retried after a lost connection, as the segments are: the restore is one transaction, or validations that
    // start over by taking the foreign keys off again; the index builds are idempotent.
    const postLoad = plan.postLoadDdl ?? [];
    const built = !restored && (await withRetries(deps, CONSTRAINTS, () => restoreConstraints(deps, plan, lifted, lifted.keys.filter((k) => !keysBack.has(k)), postLoad, concurrency)));
    restored = true;
    if (!built && postLoad.length > 0) {
      await withRetries(deps, INDEXES, async () => {
        for (const stmt of postLoad) await deps.target.query(stmt);
      });
    }
  } finally {
    // A failed load must not leave the target without its foreign keys when they can be put back.
    if (!restored) await reinstateForeignKeysUnvalidated(deps.target, lifted.fks, lifted.keys).catch(() => undefined);
  }
  // The outcomes are the committed checkpoints (orphans moved to the queue are counted there too).
  const final = await readCheckpoints(deps.target, deps.runId);
  const result: TableOutcome[] = [];
  for (const mapping of plan.phases.flat().map((n) => plan.tables.find((t) => t.target === n)).filter((m): m is TableMapping => m !== undefined)) {
    const o = outcomes.get(mapping.target);
    const cp = final.get(mapping.target);
    if (!o || !cp) continue;
    result.push({ ...o, rows_read: cp.rowsRead, rows_written: cp.rowsWritten, rows_errored: cp.rowsErrored });
  }
  await proveAccounting(deps, result, sourceCatalog, sourceCounts, sourceSlot, concurrency);
  return result;
}

/** The work after the load, for retries and their messages (`onRetry` is told these as the table). */
const CONSTRAINTS = { source: '(constraints)', target: '(constraints)', doing: 'putting the keys and foreign keys back after the load' };
const INDEXES = { source: '(indexes)', target: '(indexes)', doing: "building the generated schema's indexes after the load" };

/**
 * The plan's tables in the order their loads ask for slots: by the source catalog's row count, largest first (a table
 * whose count the analysis did not record goes first, being of unknown size), then in the DAG's phase order.
 */
export function loadOrder(plan: Plan, sourceCatalog: Catalog): Array<{ mapping: TableMapping; sourceTable: TableDef | undefined }> {
  const inPhaseOrder = plan.phases.flat().map((name) => plan.tables.find((t) => t.target === name)).filter((m): m is TableMapping => m !== undefined);
  const withSize = inPhaseOrder.map((mapping, i) => {
    const sourceTable = sourceCatalog.tables.find((t) => t.name === mapping.source);
    return { mapping, sourceTable, rows: sourceTable?.rowCount ?? Infinity, i };
  });
  return withSize.sort((a, b) => (a.rows === b.rows ? a.i - b.i : b.rows - a.rows)).map(({ mapping, sourceTable }) => ({ mapping, sourceTable }));
}

/** The afterSegment hook enforcing the error policy over every table of the run, counting from `queuedBefore`. */
function errorPolicyGuard(runId: string, policy: StrategyConfig['error_policy'], queuedBefore: number): (queued: number) => void {
  const limit = policy === 'continue' ? Infinity : policy === 'stop_on_first' ? 0 : policy.stop_after;
  let queued = queuedBefore;
  return (n) => {
    queued += n;
    if (queued > limit) {
      throw new ErrorPolicyError(`${queued} row(s) were queued, more than the error policy allows (${limit === 0 ? 'stop_on_first' : `stop_after: ${limit}`}); the run stopped at a checkpoint`, {
        hint: `review them with: sensei errors list ${runId}; fix the source or the plan, then: sensei resume ${runId} (rows queued so far still count: raise strategy.error_policy to let the run go on)`,
      });
    }
  };
}

/** What the load lifted: foreign keys, then primary keys and unique constraints (`deferred-constraints.ts`). */
interface Lifted {
  fks: LiftedForeignKey[];
  keys: LiftedKey[];
}

/**
 * Lifts the FKs and keys once per run and remembers them in the target, so a resumed run can still put them back.
 * (A run state saved before keys were lifted holds the FK list alone.)
 */
async function liftOnce(deps: ExecutePlanDeps, plan: Plan, saved: string | null, restored: boolean): Promise<Lifted> {
  if (saved !== null) {
    const parsed = JSON.parse(saved) as LiftedForeignKey[] | Lifted;
    const lifted: Lifted = Array.isArray(parsed) ? { fks: parsed, keys: [] } : parsed;
    // Put back for good by an attempt that stopped after that (nothing is left to load): they stay.
    if (restored) return lifted;
    // A failed attempt put them back (FKs NOT VALID), or some keys: lift them again.
    await deps.target.transaction(async (s) => {
      await dropForeignKeysAgain(s, deps.target.schema, lifted.fks);
      await dropKeysAgain(s, deps.target.schema, lifted.keys);
    });
    return lifted;
  }
  const targetCatalog = await deps.target.catalog();
  const tables = plan.tables.map((t) => t.target);
  let keys: LiftedKey[] = [];
  const fks = await liftForeignKeys(deps.target, targetCatalog, tables, async (s, fks) => {
    keys = await liftKeys(s, deps.target.schema, tables);
    await writeRunState(s, deps.runId, JSON.stringify({ fks, keys } satisfies Lifted), false);
  });
  return { fks, keys };
}

/**
 * Moves later duplicates of a key and orphans to the error queue and re-creates the keys and the FKs in one target
 * transaction that also updates the checkpoints and marks the constraints restored; the queue is written before the
 * commit (it ignores entries it holds), so a crash at any point loses no row and counts none twice. Without orphans
 * (the common case) the FKs are validated in parallel instead, then marked restored; a crash in between leaves them
 * NOT VALID and not marked, and the resume lifts them again. The statements `alongside` (index builds) run with the
 * parallel validations; returns whether they ran.
 */
async function restoreConstraints(deps: ExecutePlanDeps, plan: Plan, lifted: Lifted, keys: readonly LiftedKey[], alongside: readonly string[], concurrency: number): Promise<boolean> {
  // Every key back already (each table's, as its load ended): the foreign keys are validated side by side, and only
  // when one finds an orphan does the single transaction below remove them.
  const sideBySide = keys.length === 0 && lifted.fks.length > 1 && concurrency > 1;
  if (sideBySide && (await validateForeignKeys(deps.target, lifted.fks, concurrency, alongside))) {
    await deps.target.transaction((s) => writeRunState(s, deps.runId, JSON.stringify(lifted), true));
    return true;
  }
  await restoreForeignKeys(
    deps.target,
    lifted.fks,
    async (s, removals) => {
      await recordRemovals(deps, plan, s, removals);
      await writeRunState(s, deps.runId, JSON.stringify(lifted), true);
    },
    keys,
  );
  // The statements alongside ran with the validations that found the orphans.
  return sideBySide;
}

/**
 * One table's lifted keys put back as soon as its load ended, in one target transaction with the queueing of its
 * later duplicates and their checkpoint (as `restoreConstraints` does for all of them). A resume lifts them again.
 */
async function restoreTableKeys(deps: ExecutePlanDeps, plan: Plan, keys: readonly LiftedKey[]): Promise<void> {
  await deps.target.transaction(async (s) => recordRemovals(deps, plan, s, await restoreKeys(s, deps.target.schema, keys)));
}

/** Queue the rows a restored key or FK removed (before the commit: the queue ignores entries it holds) and move them from written to errored. */
async function recordRemovals(deps: ExecutePlanDeps, plan: Plan, s: TargetSession, removals: OrphanRemoval[]): Promise<void> {
  const checkpoints = await readCheckpoints(s, deps.runId);
  for (const removal of removals) {
    const mapping = plan.tables.find((t) => t.target === removal.table);
    const cp = checkpoints.get(removal.table);
    if (!mapping || !cp || removal.entries.length === 0) continue;
    await deps.errors.add(
      deps.runId,
      removal.entries.map((e) => ({
        ...e,
        table: mapping.source,
        column: e.column?.split(',').map((c) => sourceName(mapping, c)).join(',') ?? null,
        key: inSourceTerms(mapping, e.key),
        row: inSourceTerms(mapping, e.row),
      })),
    );
    const n = removal.entries.length;
    await writeCheckpoint(s, deps.runId, { ...cp, rowsWritten: cp.rowsWritten - n, rowsErrored: cp.rowsErrored + n });
    deps.onProgress?.({ table: mapping.source, rowsRead: cp.rowsRead, rowsTotal: cp.rowsRead, rowsWritten: cp.rowsWritten - n, rowsErrored: cp.rowsErrored + n, done: true });
  }
}

/**
 * The end-of-run proof against real counts, per table: source rows = read, target rows = written, queued rows in the
 * store = errored, and read = written + errored. The source's count is the one taken as the table's load ended
 * (`sourceCounts`, a row added or removed behind the reading shows there), else taken now.
 */
async function proveAccounting(
  deps: ExecutePlanDeps,
  outcomes: TableOutcome[],
  sourceCatalog: Catalog,
  sourceCounts: ReadonlyMap<string, number>,
  sourceSlot: Slot,
  concurrency: number,
): Promise<void> {
  const queued = (await deps.errors.count?.(deps.runId)) ?? null;
  // The counts of every table at once, as many at a time as the load ran (each one scans its table).
  const targetSlot = slots(concurrency);
  const counted = await Promise.all(
    outcomes.map(async (o) => {
      const def = sourceCatalog.tables.find((t) => t.name === o.source);
      const [inSource, inTarget] = await Promise.all([
        sourceCounts.has(o.source) ? sourceCounts.get(o.source)! : def ? sourceSlot(() => deps.source.countRows(def)) : null,
        targetSlot(async () => {
          const res = await deps.target.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(deps.target.schema, o.target)}`);
          return Number(res.rows[0]?.n ?? 0);
        }),
      ]);
      return { o, inSource, inTarget };
    }),
  );
  const problems: string[] = [];
  for (const { o, inSource, inTarget } of counted) {
    if (o.rows_read !== o.rows_written + o.rows_errored) problems.push(`${o.source}: read ${o.rows_read} but wrote ${o.rows_written} and queued ${o.rows_errored}`);
    if (inSource !== null && inSource !== o.rows_read) problems.push(`${o.source}: the source holds ${inSource} rows but ${o.rows_read} were read (did the source change during the load?)`);
    if (inTarget !== o.rows_written) problems.push(`${o.target}: the target holds ${inTarget} rows but ${o.rows_written} were written`);
    if (queued !== null && (queued[o.source] ?? 0) !== o.rows_errored) {
      problems.push(`${o.source}: the error queue holds ${queued[o.source] ?? 0} rows but ${o.rows_errored} were queued`);
    }
  }
  if (problems.length > 0) {
    throw new AccountingError(`the run cannot prove that every row read was written or queued: ${problems.join('; ')}`, {
      hint: 'the target is not trustworthy: do not use it; report this run id',
    });
  }
}

/**
 * Applies the plan's DDL when the target lacks the tables, and refuses to load into tables that hold rows — except
 * tables this run has checkpoints for, which it resumes.
 */
async function prepareTarget(target: TargetConnector, plan: Plan, resuming: ReadonlySet<string>, started: boolean): Promise<void> {
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
    if (resuming.has(t)) continue;
    const res = await target.query<{ has: string }>(`SELECT EXISTS (SELECT 1 FROM ${qualified(target.schema, t)}) AS has`);
    const has = res.rows[0]?.has;
    if (has === 't' || has === 'true' || (has as unknown) === true) {
      throw new PlanError(`target table ${t} already holds rows${started ? ' that this run has no checkpoint for' : ''}: Sensei does not append to loaded tables, so nothing can be duplicated`, {
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
