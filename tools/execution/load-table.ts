// Load one table: read batch → stage (COPY) → validate set-wise → INSERT … SELECT, isolating rows that fail;
// batches are grouped in segments, each committed with its checkpoint so that a crash can resume exactly.
import { createHash, type Hash } from 'node:crypto';
import type { Batch } from '../../core/batch.js';
import type { TableDef } from '../../core/catalog.js';
import { AccountingError, SourceUnavailableError } from '../../core/errors.js';
import type { TableMapping } from '../../core/plan.js';
import type { ErrorQueueEntry, ErrorSink, RetryNotice, TableOutcome, TableProgress } from '../../core/run.js';
import type { SourceConnector, TargetConnector, TargetSession } from '../../connectors/connector.js';
import { uniqueKeyColumns } from '../planning/constraint-rules.js';
import { qualified, quoteIdent } from '../planning/identifiers.js';
import { deleteCheckpoint, deleteParts, partName, readCheckpoint, readParts, writeCheckpoint, type TableCheckpoint } from './checkpoints.js';
import { stagedText } from './copy-text.js';
import { batchLines, stagedRows } from './batch-lines.js';
import { columnTypes, directCopyFor, type DirectCopy } from './direct-copy.js';
import { backoffMs, classifyFault, faultCode, targetFault } from './fault-class.js';
import { underSavepoint } from './savepoint.js';
import { settleAll, type Slot, type Turn } from './slots.js';

export interface LoadTableDeps {
  runId: string;
  source: SourceConnector;
  target: TargetConnector;
  errors: ErrorSink;
  /** Rows per batch. Default 10,000. */
  batchSize?: number;
  /** Rows per checkpoint (rounded up to whole batches). Default 100,000. */
  checkpointEvery?: number;
  /** Retries of a segment after a transient failure. Default 5. */
  maxRetries?: number;
  /** First pause before a retry, doubled each time. Default 500 ms. */
  retryBackoffMs?: number;
  /** Called after each committed segment with the rows it queued; throwing stops the load at that checkpoint. */
  afterSegment?: (queued: number) => void;
  onProgress?: (p: TableProgress) => void;
  /** Told before a retry (after a transient failure) what failed, which retry it is and when it starts. */
  onRetry?: (notice: RetryNotice, error: unknown) => void;
  /** Where each unit of work (the table, or one of its key ranges) waits for its turn. Default: at once. */
  slot?: Slot;
  /** Where the table's preparation (a count when the catalog has none, cutting it into key ranges) waits. Default `slot`. */
  prepareSlot?: Slot;
  /**
   * The table's place among the tables queueing units in `slot`: its units are queued once `turn.ready`, so that with
   * a FIFO `slot` tables load in the order of their turns, not in the order their preparations end. Default: at once.
   */
  turn?: Turn;
  /** Key ranges a large table may be cut into and loaded at once. Default 1 (never cut). */
  parts?: number;
  /**
   * COPY batches straight into the target when the table's transformations are plain casts and Node can decide its
   * rules (`direct-copy.ts`); a batch that fails a check or the COPY takes the staged path. Default true.
   */
  directCopy?: boolean;
  /** Told for every batch which path it took and, when staged, why not the direct one. */
  onPath?: (table: string, path: 'direct' | 'staged', why: string | null) => void;
}

const STAGE = 'pg_temp."_sensei_stage"';

/** Thrown by reads so a failure can be told apart from the target's. */
class SourceReadFailure extends Error {
  constructor(readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original), { cause: original });
  }
}

/**
 * Every row read ends either written or in the error queue; the returned counts prove it
 * (rows_read = rows_written + rows_errored). Resumes from the table's checkpoint when there is one; a table without a
 * primary key whose source has no stable row order is reloaded whole instead. The source hash is the SHA-256 over the
 * per-segment SHA-256 digests (hex, one per line), each over the segment's rows in read order, so it does not depend
 * on where a run was interrupted. A large table whose source can cut it into key ranges is loaded in `parts` ranges
 * at once (each with its own checkpoint, in its own slot); the table's checkpoint then sums them, segments in key order.
 */
export async function loadTable(deps: LoadTableDeps, mapping: TableMapping, sourceTable: TableDef): Promise<TableOutcome> {
  const slot: Slot = deps.slot ?? ((fn) => fn());
  let prepared: { rowsTotal: number; parts: TableCheckpoint[] | null };
  try {
    prepared = await (deps.prepareSlot ?? slot)(() =>
      withRetries(deps, mapping, async () => {
        // The analysis's exact count when it took one: only the progress total and where to cut depend on it (the
        // end-of-run accounting counts the source afresh), and counting an InnoDB table is a full scan.
        const rows = sourceTable.rowCount ?? (await readSource(() => deps.source.countRows(sourceTable)));
        return { rowsTotal: rows, parts: await splitOnce(deps, mapping, sourceTable, rows) };
      }),
    );
    await deps.turn?.ready;
  } catch (e) {
    // Later tables still queue theirs, in turn (the slots then refuse to start them: this table failed).
    if (deps.turn) void deps.turn.ready.then(deps.turn.pass);
    throw e;
  }
  const { rowsTotal, parts } = prepared;
  const latest = new Map<number, TableProgress>();
  const onPart = (i: number) => (p: TableProgress) => {
    latest.set(i, p);
    const all = [...latest.values()];
    const sum = (f: (x: TableProgress) => number): number => all.reduce((n, x) => n + f(x), 0);
    deps.onProgress?.({ ...p, rowsRead: sum((x) => x.rowsRead), rowsWritten: sum((x) => x.rowsWritten), rowsErrored: sum((x) => x.rowsErrored), done: all.length === (parts?.length ?? 1) && all.every((x) => x.done) });
  };
  // `slot` queues a unit as it is called: all of this table's units are queued before the next turn passes.
  const units = (parts ?? [null]).map((part, i) =>
    slot(() => (part === null ? loadRange(deps, mapping, sourceTable, mapping.target, rowsTotal, deps.onProgress) : loadRange(deps, mapping, sourceTable, part.targetTable, rowsTotal, onPart(i)))),
  );
  deps.turn?.pass();
  if (parts === null) return outcomeOf(mapping, await units[0]!);
  await settleAll(units);
  return outcomeOf(mapping, await withRetries(deps, mapping, () => joinParts(deps, mapping)));
}

/** One table, or one key range of it (`key` names its checkpoint), from its checkpoint to its end. */
async function loadRange(deps: LoadTableDeps, mapping: TableMapping, sourceTable: TableDef, key: string, rowsTotal: number, onProgress: LoadTableDeps['onProgress']): Promise<TableCheckpoint> {
  const resumable = resumesInPlace(deps.source, sourceTable);
  return withRetries(deps, mapping, async () => {
    let cp = await readCheckpoint(deps.target, deps.runId, key);
    if (cp && !cp.done && !resumable) {
      cp = await restartWhole(deps, mapping);
    }
    return cp?.done ? cp : loadFrom({ ...deps, onProgress }, mapping, sourceTable, cp, rowsTotal);
  });
}

/**
 * What a retried piece of work is about: the table (its source name is told to `onRetry` and named when the source
 * fails) and, when it is not loading the target table, what it does (for the error message).
 */
export interface RetrySubject {
  source: string;
  target: string;
  doing?: string;
}

/** Runs `fn`, again after a transient failure (with backoff, at most `maxRetries` times); other failures are described. */
export async function withRetries<T>(deps: LoadTableDeps, mapping: RetrySubject, fn: () => Promise<T>): Promise<T> {
  const maxRetries = deps.maxRetries ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const fromSource = e instanceof SourceReadFailure;
      const cause = fromSource ? e.original : e;
      const fault = classifyFault(cause);
      if (fault === 'transient' && attempt < maxRetries) {
        const inMs = backoffMs(attempt + 1, deps.retryBackoffMs ?? 500);
        const what = fromSource ? 'the source stopped answering' : 'lost the target connection';
        deps.onRetry?.({ table: mapping.source, attempt: attempt + 1, of: maxRetries, inMs, reason: `${what} (${faultCode(cause) ?? 'no error code'})` }, e);
        await new Promise((r) => setTimeout(r, inMs));
        continue;
      }
      throw describeFault(deps.runId, mapping, e, fault);
    }
  }
}

const freshCheckpoint = (mapping: TableMapping): TableCheckpoint => ({
  targetTable: mapping.target,
  sourceTable: mapping.source,
  rowsRead: 0,
  rowsWritten: 0,
  rowsErrored: 0,
  lastKey: null,
  segmentHashes: [],
  done: false,
  seconds: 0,
});

/**
 * The key ranges of a table loaded in parts: those saved by an earlier attempt, or new ones when the table has at
 * least two checkpoints' worth of rows, a key, and a source that can cut it (saved with the table's own checkpoint, so
 * a resume uses the same ranges). Null: load the table as one range (also when an unsplit load already started).
 */
async function splitOnce(deps: LoadTableDeps, mapping: TableMapping, sourceTable: TableDef, rowsTotal: number): Promise<TableCheckpoint[] | null> {
  const whole = await readCheckpoint(deps.target, deps.runId, mapping.target);
  if (whole?.done) return null;
  const saved = await readParts(deps.target, deps.runId, mapping.target);
  if (saved.length > 0) return saved;
  const every = deps.checkpointEvery ?? 100_000;
  const parts = Math.min(deps.parts ?? 1, Math.floor(rowsTotal / every));
  if (whole || parts < 2 || !deps.source.splitKeys || sourceTable.primaryKey.length === 0) return null;
  // Ranges of whole segments: each range's segments hold the rows an unsplit load's would, so the table's source
  // hash (over the segment digests in key order) does not depend on whether or where the table was cut.
  const segmentRows = Math.max(1, Math.ceil(every / (deps.batchSize ?? 10_000))) * (deps.batchSize ?? 10_000);
  const keys = await readSource(() => deps.source.splitKeys!(sourceTable, parts, segmentRows, rowsTotal));
  if (keys.length === 0) return null;
  const ranges = [...keys, null].map((until, i) => ({
    ...freshCheckpoint(mapping),
    targetTable: partName(mapping.target, i),
    partOf: mapping.target,
    lastKey: i === 0 ? null : keys[i - 1]!,
    untilKey: until,
  }));
  await deps.target.transaction(async (s) => {
    await writeCheckpoint(s, deps.runId, freshCheckpoint(mapping));
    for (const r of ranges) await writeCheckpoint(s, deps.runId, r);
  });
  return ranges;
}

/** All key ranges done: the table's checkpoint becomes their sum (segments in key order) and theirs are removed. */
async function joinParts(deps: LoadTableDeps, mapping: TableMapping): Promise<TableCheckpoint> {
  return deps.target.transaction(async (s) => {
    const parts = await readParts(s, deps.runId, mapping.target);
    if (parts.length === 0 || parts.some((p) => !p.done)) {
      const cp = await readCheckpoint(s, deps.runId, mapping.target);
      if (cp?.done) return cp;
      throw new AccountingError(`the key ranges of ${mapping.source} are not all loaded`, { hint: 'report this run id; sensei resume continues the ranges' });
    }
    const sum = (f: (p: TableCheckpoint) => number): number => parts.reduce((n, p) => n + f(p), 0);
    const whole: TableCheckpoint = {
      ...freshCheckpoint(mapping),
      rowsRead: sum((p) => p.rowsRead),
      rowsWritten: sum((p) => p.rowsWritten),
      rowsErrored: sum((p) => p.rowsErrored),
      segmentHashes: parts.flatMap((p) => p.segmentHashes),
      done: true,
      // The ranges ran at the same time: the table took as long as the longest.
      seconds: Math.max(...parts.map((p) => p.seconds)),
    };
    await writeCheckpoint(s, deps.runId, whole);
    await deleteParts(s, deps.runId, mapping.target);
    return whole;
  });
}

/** A table's load continues after its checkpoint (a key or a stable row order); otherwise it is reloaded whole. */
export function resumesInPlace(source: SourceConnector, table: TableDef): boolean {
  return table.primaryKey.length > 0 || source.capabilities.hasStableRowOrder;
}

function describeFault(runId: string, mapping: RetrySubject, e: unknown, fault: ReturnType<typeof classifyFault>): unknown {
  const resume = `then run: sensei resume ${runId} (the load continues from the last checkpoint; nothing is written twice)`;
  if (e instanceof SourceReadFailure) {
    return new SourceUnavailableError(`the source stopped answering while ${mapping.source} was read: ${e.message}`, {
      hint: `bring the source back, ${resume}`,
      cause: e.original,
    });
  }
  return targetFault(fault, e, { doing: mapping.doing ?? `loading ${mapping.target}`, resume, retried: true }) ?? e;
}

export async function readSource<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw new SourceReadFailure(e);
  }
}

/** A table read by a position that is not stable: empty it, forget its queued rows and checkpoint, start over. */
async function restartWhole(deps: LoadTableDeps, mapping: TableMapping): Promise<null> {
  await deps.errors.clear?.(deps.runId, mapping.source);
  await deps.target.transaction(async (s) => {
    await s.query(`DELETE FROM ${qualified(deps.target.schema, mapping.target)}`);
    await deleteCheckpoint(s, deps.runId, mapping.target);
  });
  return null;
}

function outcomeOf(mapping: TableMapping, cp: TableCheckpoint): TableOutcome {
  return {
    source: mapping.source,
    target: mapping.target,
    rows_read: cp.rowsRead,
    rows_written: cp.rowsWritten,
    rows_errored: cp.rowsErrored,
    source_hash: createHash('sha256').update(cp.segmentHashes.map((h) => `${h}\n`).join('')).digest('hex'),
    seconds: cp.seconds,
  };
}

async function loadFrom(deps: LoadTableDeps, mapping: TableMapping, sourceTable: TableDef, from: TableCheckpoint | null, rowsTotal: number): Promise<TableCheckpoint> {
  const target = deps.target;
  const batchSize = deps.batchSize ?? 10_000;
  const batchesPerSegment = Math.max(1, Math.ceil((deps.checkpointEvery ?? 100_000) / batchSize));
  let cp: TableCheckpoint = from ?? freshCheckpoint(mapping);
  const progress: TableProgress = { table: mapping.source, rowsRead: cp.rowsRead, rowsTotal, rowsWritten: cp.rowsWritten, rowsErrored: cp.rowsErrored, done: false };
  deps.onProgress?.({ ...progress });
  const ctx = { ...(await withDirectPath(deps, tableContext(mapping, sourceTable, target))), ...(deps.onPath ? { onPath: deps.onPath } : {}) };
  const batches = readAhead(
    deps.source.readBatches(sourceTable, { batchSize, ...(cp.lastKey ? { afterKey: cp.lastKey } : {}), ...(cp.untilKey ? { untilKey: cp.untilKey } : {}), offset: cp.rowsRead })[Symbol.asyncIterator](),
  );
  try {
    while (!cp.done) {
      const before = cp;
      const segmentStarted = Date.now();
      cp = await target.transaction(async (s) => {
        // The segment's commit does not wait for its WAL to reach disk: a crash of the target server may lose the
        // last segments, but each with its checkpoint (one transaction), so the resume reads them again; and the
        // load's later synchronous commits (the keys, the foreign keys) flush every earlier one before the run goes on.
        await s.query('SET LOCAL synchronous_commit = off');
        const seg = { read: 0, written: 0, rejected: [] as ErrorQueueEntry[], hash: createHash('sha256'), lastKey: before.lastKey };
        const stage: StageState = { created: false };
        let exhausted = false;
        for (let b = 0; b < batchesPerSegment; b++) {
          const next = await readSource(() => batches.next());
          if (next.done) {
            exhausted = true;
            break;
          }
          const batch = next.value;
          seg.written += await loadBatch(s, ctx, batch, seg.hash, seg.rejected, stage);
          seg.read += batch.rowCount;
          seg.lastKey = batch.lastKey;
          progress.rowsRead = before.rowsRead + seg.read;
          progress.rowsWritten = before.rowsWritten + seg.written;
          progress.rowsErrored = before.rowsErrored + seg.rejected.length;
          deps.onProgress?.({ ...progress });
        }
        if (seg.read !== seg.written + seg.rejected.length) {
          throw new AccountingError(`accounting broke in ${mapping.source}: a segment read ${seg.read} rows, wrote ${seg.written} and queued ${seg.rejected.length}`, {
            hint: 'nothing of this segment was committed; report this run id',
          });
        }
        // Queued before the commit: the queue ignores entries it already holds, so a crash between the two
        // re-queues nothing twice, and a crash before the commit re-reads the segment and queues it again.
        if (seg.rejected.length > 0) await deps.errors.add(deps.runId, seg.rejected);
        const next: TableCheckpoint = {
          ...before,
          rowsRead: before.rowsRead + seg.read,
          rowsWritten: before.rowsWritten + seg.written,
          rowsErrored: before.rowsErrored + seg.rejected.length,
          lastKey: seg.read > 0 ? seg.lastKey : before.lastKey,
          segmentHashes: seg.read > 0 ? [...before.segmentHashes, seg.hash.digest('hex')] : before.segmentHashes,
          done: exhausted,
          seconds: before.seconds + (Date.now() - segmentStarted) / 1000,
        };
        await writeCheckpoint(s, deps.runId, next);
        return next;
      });
      deps.afterSegment?.(cp.rowsErrored - before.rowsErrored);
    }
  } finally {
    await batches.return?.();
  }
  progress.done = true;
  deps.onProgress?.({ ...progress });
  return cp;
}

/**
 * Asks the source for the next batch as soon as one is handed out, so reading batch n+1 overlaps writing batch n
 * (at most two batches in memory). A failed read is reported when that batch is asked for.
 */
export function readAhead<T>(it: AsyncIterator<T>): AsyncIterator<T> & { return(): Promise<IteratorResult<T>> } {
  let pending: Promise<IteratorResult<T>> | null = null;
  const fetch = (): Promise<IteratorResult<T>> => {
    const p = it.next();
    p.catch(() => undefined); // observed when awaited; never an unhandled rejection meanwhile
    return p;
  };
  return {
    async next() {
      const current = pending ?? fetch();
      pending = null;
      const r = await current;
      if (!r.done) pending = fetch();
      return r;
    },
    async return() {
      const left = pending;
      pending = null;
      await left?.catch(() => undefined);
      return (await it.return?.()) ?? { done: true, value: undefined };
    },
  };
}

export interface TableContext {
  mapping: TableMapping;
  sourceTable: TableDef;
  targetTable: string;
  targetCols: string[];
  exprs: string[];
  /** The rules a staged row can be checked against (key rules, whose predicate is `true`, are the target's to enforce). */
  rules: Array<TableMapping['columns'][number]['validationRules'][number] & { column: string }>;
  /** Every rule holds (SQL over `src`), and one flag per rule `r0…` naming what a failing row broke: built once per table. */
  ruleTerms: { ok: string; flags: string };
  /** Set when batches may be COPYed straight into the target (`withDirectPath`). */
  direct?: DirectCopy;
  /** Why the table has no direct path, when it was asked for one. */
  noDirect?: string;
  /** Told which path each batch took (`LoadTableDeps.onPath`). */
  onPath?: LoadTableDeps['onPath'];
}

/** Whether this segment's transaction has created its staging table yet. */
export interface StageState {
  created: boolean;
}

/**
 * `ctx` with the direct path when the target's column types and the plan allow it (`directCopyFor`); the types are
 * read from the target's catalog, so a plan whose types differ from the table's keeps the staged path.
 */
async function withDirectPath(deps: LoadTableDeps, ctx: TableContext): Promise<TableContext> {
  const refuse = (why: string): TableContext => ({ ...ctx, noDirect: why });
  if (deps.directCopy === false) return refuse('strategy.direct_copy is false');
  const direct = directCopyFor(ctx.mapping, await columnTypes(deps.target, ctx.targetTable));
  if ('refused' in direct) return refuse(direct.refused);
  return { ...ctx, direct };
}

export function tableContext(mapping: TableMapping, sourceTable: TableDef, target: TargetConnector): TableContext {
  const rules = mapping.columns.flatMap((c) => c.validationRules.filter((r) => !/^\s*true\s*$/i.test(r.predicate)).map((r) => ({ ...r, column: c.sourceColumn })));
  return {
    mapping,
    sourceTable,
    targetTable: qualified(target.schema, mapping.target),
    targetCols: mapping.columns.map((c) => quoteIdent(c.targetColumn)),
    exprs: mapping.columns.map((c) => c.transformation),
    rules,
    ruleTerms: {
      ok: rules.length === 0 ? 'true' : rules.map((r) => `coalesce(${r.predicate}, false)`).join(' AND '),
      flags: rules.map((rule, i) => `coalesce(${rule.predicate}, false) AS "r${i}"`).join(', '),
    },
  };
}

type EntryFn = (r: number, e: Omit<ErrorQueueEntry, 'table' | 'key' | 'row'>) => ErrorQueueEntry;

/**
 * Load one batch: queue what the source could not read, then COPY the rest straight into the target when the table
 * has a direct path and every row passes its checks; otherwise (or when that COPY fails) stage the rows, queue what
 * fails validation and insert the rest. Returns rows written.
 */
export async function loadBatch(s: TargetSession, ctx: TableContext, batch: Batch, hash: Hash, rejected: ErrorQueueEntry[], stage: StageState): Promise<number> {
  const names = batch.columns.map((c) => c.name);
  const keyIdx = ctx.sourceTable.primaryKey.map((k) => names.indexOf(k));
  const rowOf = (r: number): Record<string, unknown> => Object.fromEntries(names.map((n, c) => [n, stagedText(batch.values[c]![r] ?? null)]));
  const keyOf = (r: number): Record<string, unknown> =>
    keyIdx.length > 0 && keyIdx.every((i) => i >= 0)
      ? Object.fromEntries(keyIdx.map((i) => [names[i]!, stagedText(batch.values[i]![r] ?? null)]))
      : { _row: batch.offset + r + 1 };
  const entry: EntryFn = (r, e) => ({ table: ctx.mapping.source, key: keyOf(r), row: rowOf(r), ...e });

  // Rows the source could not normalise (zero dates, invalid byte sequences) or holding a NUL byte never reach the
  // target; the others go direct when they can (`batchLines`).
  const enc = batchLines(batch, ctx.direct ?? null, ctx.noDirect ?? 'no direct path for this table');
  for (const x of enc.refused) rejected.push(entry(x.row, { column: x.column, rule: x.rule, stage: x.stage, reason: x.reason }));
  // The source hash covers every row read, in read order, as its COPY line: the bytes written once, for the hash and,
  // when they are the direct COPY's text too, for the COPY.
  hash.update(enc.text.bytes());
  const kept = enc.kept;
  if (kept.length === 0) return 0;
  let why = enc.why;
  if (enc.direct) {
    const written = await copyDirect(s, ctx, enc.direct);
    if (typeof written === 'number') {
      ctx.onPath?.(ctx.mapping.source, 'direct', null);
      return written;
    }
    why = `the target refused the direct COPY (${written.refused})`;
  }
  ctx.onPath?.(ctx.mapping.source, 'staged', why);
  // One staging table per segment transaction (dropped at its end), emptied between batches.
  if (!stage.created) {
    await s.query(`CREATE TEMP TABLE "_sensei_stage" ("_sensei_ord" integer, ${names.map((n) => `${quoteIdent(n)} text`).join(', ')}) ON COMMIT DROP`);
    stage.created = true;
  } else await s.query(`TRUNCATE ${STAGE}`);
  await s.copyFrom(STAGE, ['_sensei_ord', ...names], stagedRows(enc));
  return insertValid(s, ctx, kept.length, batch.rowCount, rejected, entry);
}

/**
 * COPY the batch straight into the target under a savepoint. `refused` when PostgreSQL refused it (a value its input
 * function rejects, a constraint): nothing of it stays, and the staged path isolates the rows at fault.
 */
async function copyDirect(s: TargetSession, ctx: TableContext, text: string | Buffer): Promise<number | { refused: string }> {
  const copied = await underSavepoint(s, 'sensei_direct', () => s.copyFrom(ctx.targetTable, ctx.direct!.targetColumns, text));
  // The SQLSTATE only: a driver message may quote a value.
  return copied.ok ? copied.value : { refused: `SQLSTATE ${String((copied.error as { code?: unknown }).code ?? 'unknown')}` };
}

/**
 * The common case in one pass over the staged rows: INSERT … SELECT the rows that hold every rule (the
 * transformations only run on those); when fewer than staged went in, the others broke a rule and are queued. When
 * the INSERT itself fails (a cast the rules did not foresee, a constraint), rows breaking a rule are queued first and
 * the rest is inserted isolating the failing rows.
 */
async function insertValid(s: TargetSession, ctx: TableContext, staged: number, rowCount: number, rejected: ErrorQueueEntry[], entry: EntryFn): Promise<number> {
  if (staged === 0) return 0;
  const { ok } = ctx.ruleTerms;
  const inserted = await underSavepoint(s, 'sensei_batch', () =>
    s.query(`INSERT INTO ${ctx.targetTable} (${ctx.targetCols.join(', ')}) SELECT ${ctx.exprs.join(', ')} FROM ${STAGE} AS src WHERE ${ok} ORDER BY "_sensei_ord"`),
  );
  if (inserted.ok) {
    if (inserted.value.rowCount < staged) await rejectInvalid(s, ctx, rejected, entry, false);
    return inserted.value.rowCount;
  }
  await rejectInvalid(s, ctx, rejected, entry, true);
  return insertIsolating(s, ctx, rowCount, rejected, entry);
}

/**
 * Queues the staged rows that break a validation rule, naming every broken rule; `remove` also deletes them from the
 * staging table (before an isolating insert), otherwise they are only selected (they were not inserted).
 */
async function rejectInvalid(s: TargetSession, ctx: TableContext, rejected: ErrorQueueEntry[], entry: EntryFn, remove: boolean): Promise<void> {
  const rules = ctx.rules;
  if (rules.length === 0) return;
  const { ok, flags } = ctx.ruleTerms;
  const failed = await s.query<Record<string, string>>(
    remove
      ? `DELETE FROM ${STAGE} AS src WHERE NOT (${ok}) RETURNING "_sensei_ord", ${flags}`
      : `SELECT "_sensei_ord", ${flags} FROM ${STAGE} AS src WHERE NOT (${ok})`,
  );
  for (const row of failed.rows) {
    const broken = rules.filter((_, i) => row[`r${i}`] !== 't' && row[`r${i}`] !== 'true');
    rejected.push(
      entry(Number(row._sensei_ord), {
        column: broken[0]?.column ?? null,
        rule: broken.map((b) => b.rule).join(',') || 'validation',
        stage: 'validate',
        reason: broken.map((b) => b.message).join('; '),
      }),
    );
  }
}

/**
 * INSERT … SELECT the staged rows; when the statement fails (a cast the rules could not foresee, a unique or check
 * violation), split the range in halves under savepoints until the failing rows stand alone and go to the queue.
 */
async function insertIsolating(s: TargetSession, ctx: TableContext, rowCount: number, rejected: ErrorQueueEntry[], entry: EntryFn): Promise<number> {
  const insert = async (lo: number, hi: number): Promise<number> => {
    const res = await s.query(
      `INSERT INTO ${ctx.targetTable} (${ctx.targetCols.join(', ')}) SELECT ${ctx.exprs.join(', ')} FROM ${STAGE} AS src WHERE "_sensei_ord" >= ${lo} AND "_sensei_ord" < ${hi} ORDER BY "_sensei_ord"`,
    );
    return res.rowCount;
  };
  const attempt = async (lo: number, hi: number): Promise<number> => {
    const inserted = await underSavepoint(s, 'sensei_split', () => insert(lo, hi));
    if (inserted.ok) return inserted.value;
    const remaining = await s.query<{ n: string }>(`SELECT count(*) AS n FROM ${STAGE} WHERE "_sensei_ord" >= ${lo} AND "_sensei_ord" < ${hi}`);
    if (Number(remaining.rows[0]?.n ?? 0) === 0) return 0;
    if (hi - lo === 1) {
      rejected.push(entry(lo, { ...(await diagnose(s, ctx, lo, inserted.error)), stage: 'write' }));
      return 0;
    }
    const mid = lo + Math.floor((hi - lo) / 2);
    return (await attempt(lo, mid)) + (await attempt(mid, hi));
  };
  return attempt(0, rowCount);
}

/** Which column of a single failing row is at fault: evaluate each transformation alone under a savepoint. */
async function diagnose(s: TargetSession, ctx: TableContext, ord: number, error: unknown): Promise<{ column: string | null; rule: string; reason: string }> {
  const message = error instanceof Error ? error.message : String(error);
  for (const [i, expr] of ctx.exprs.entries()) {
    const probed = await underSavepoint(s, 'sensei_probe', () => s.query(`SELECT ${expr} FROM ${STAGE} AS src WHERE "_sensei_ord" = ${ord}`));
    if (!probed.ok) {
      const probe = probed.error;
      const m = ctx.mapping.columns[i]!;
      return {
        column: m.sourceColumn,
        rule: 'cast_failed',
        reason: `${m.sourceColumn} → ${m.targetTable}.${m.targetColumn} (${m.targetType}): ${probe instanceof Error ? probe.message : String(probe)}; fix the source value or change the mapping's transformation`,
      };
    }
  }
  const pg = error as { code?: unknown; constraint?: unknown };
  if (pg.code === '23505') {
    const constraint = String(pg.constraint ?? '');
    // The violated index's columns from the target's catalog (a unique index that is no constraint has no rule naming
    // it); the plan's rules only when the catalog does not say.
    const indexed = constraint === '' ? [] : await indexColumns(s, ctx.targetTable, constraint);
    const named = indexed.map((c) => ctx.mapping.columns.find((m) => m.targetColumn === c)?.sourceColumn ?? c);
    return {
      column: (named.length > 0 ? named : uniqueKeyColumns(ctx.mapping.columns, constraint)).join(',') || null,
      rule: 'unique',
      reason: `${ctx.mapping.target} already holds a row with this key (constraint ${constraint || 'unknown'}): deduplicate the source rows or fix the key, then retry`,
    };
  }
  return {
    column: null,
    rule: 'write_rejected',
    reason: `${ctx.mapping.target} rejected the row: ${message}; fix the source row or the target constraint, then retry`,
  };
}

/** The columns of unique index `index` of `table` (quoted, possibly qualified), in index order; empty when unknown. */
async function indexColumns(s: TargetSession, table: string, index: string): Promise<string[]> {
  const res = await s.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
       JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = ANY (CAST(i.indkey AS int2[]))
      WHERE i.indrelid = CAST($1 AS regclass) AND c.relname = $2
      ORDER BY array_position(CAST(i.indkey AS int2[]), a.attnum)`,
    [table, index],
  );
  return res.rows.map((r) => r.name);
}
