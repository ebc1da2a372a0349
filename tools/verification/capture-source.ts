// Capture the source before execution: per table, rows as they will look after transformation, hashed into
// key-range buckets, and column statistics, so verification compares with the source as it was at capture time.
import type { Batch } from '../../core/batch.js';
import type { TableDef } from '../../core/catalog.js';
import type { Catalog } from '../../core/catalog.js';
import { PlanError } from '../../core/errors.js';
import type { Plan, TableMapping } from '../../core/plan.js';
import type { TableProgress } from '../../core/run.js';
import type { SourceConnector, TargetConnector, TargetSession } from '../../connectors/connector.js';
import { batchLines, stagedRows } from '../execution/batch-lines.js';
import { columnTypes, directCopyFor, type DirectCopy } from '../execution/direct-copy.js';
import { classifyFault, targetFault } from '../execution/fault-class.js';
import { readAhead } from '../execution/load-table.js';
import { underSavepoint } from '../execution/savepoint.js';
import { quoteIdent } from '../planning/identifiers.js';
import { CaptureDetail } from './capture-detail.js';
import {
  BUCKET_HASH,
  bucketCountFor,
  columnStatsSql,
  mergeColumnStats,
  normaliseSession,
  readColumnStats,
  rowDigestLinesSql,
  sketchBounds,
  tableRoot,
  type BucketDigest,
  type ColumnStats,
  type DigestShape,
} from './row-digest.js';

/** The captured state of one table. */
export interface TableCapture {
  source: string;
  target: string;
  shape: DigestShape;
  /** Bucket count (a power of two) the digests were made with; the target is hashed with the same. */
  buckets: number;
  rowsRead: number;
  /** Rows expected in the target: read, minus rows that fail a validation rule, a cast or hold a NUL byte. */
  rowsExpected: number;
  rowsExcluded: number;
  digests: BucketDigest[];
  /** sha256 over the bucket digests (`tableRoot`). */
  root: string;
  stats: ColumnStats[];
  /**
   * Per bucket: `[key, rowHash]` with `key` the JSON array of the key values as text and `rowHash` the row's md5 (32
   * hex digits; captures stored before kept its first 16, and are compared by those). Holds key values: spilled to
   * local disk encrypted, stored only encrypted. Whoever holds the capture calls `detail.release()` when done with it
   * (`captureSource` does when it fails).
   */
  detail: CaptureDetail;
}

export interface SourceCapture {
  capturedAt: string;
  tables: TableCapture[];
}

export interface CaptureDeps {
  source: SourceConnector;
  /** The target does the transformations (in a temporary table that is dropped); nothing is written to it. */
  target: TargetConnector;
  /** Rows per batch. Default 10,000. */
  batchSize?: number;
  /**
   * Batches of a table captured at once, each in its own target session (results are merged in read order, so they
   * do not depend on it). Default 2; 1 when the target has no concurrent sessions.
   */
  concurrency?: number;
  /**
   * Capture a batch without evaluating the transformations when the table has the execution's direct path
   * (`directCopyFor`) and every row passes its checks (`directLine`): the rows are COPYed into a temporary table typed
   * as the target columns and hashed from there. Any other batch, or one whose COPY is refused, is evaluated. The
   * capture is the same either way. Default true (`strategy.direct_copy`).
   */
  directCopy?: boolean;
  /**
   * Where each table's detail is spilled (encrypted, in a private directory made there and removed when the detail is
   * released). Default `os.tmpdir()` (`TMPDIR`).
   */
  spillDir?: string;
  /** Told for every batch which path it took and, when staged (evaluated), why not the direct one. */
  onPath?: (table: string, path: 'direct' | 'staged', why: string | null) => void;
  onProgress?: (p: TableProgress) => void;
  /**
   * Called once per table when it is captured (e.g. to store it), in plan order; the next table is captured
   * meanwhile, and at most one call runs at a time.
   */
  onTable?: (t: TableCapture) => Promise<void>;
}

/** The digest shape of a mapped table: mapped target columns in plan order, keyed by the target columns of the source key. */
export function shapeOf(mapping: TableMapping): DigestShape {
  const key = mapping.sourceKey.map((k) => mapping.columns.find((c) => c.sourceColumn === k)?.targetColumn);
  return {
    columns: mapping.columns.map((c) => ({ name: c.targetColumn, type: c.targetType })),
    key: key.every((k): k is string => k !== undefined) ? key : [],
    bucketHash: BUCKET_HASH,
  };
}

export async function captureSource(deps: CaptureDeps, plan: Plan, sourceCatalog: Catalog): Promise<SourceCapture> {
  const capturedAt = new Date().toISOString();
  const tables: TableCapture[] = [];
  // A table's onTable runs while the next table is captured, and is awaited before that table's own onTable starts.
  let saving: Promise<void> | undefined;
  let done = false;
  try {
    for (const mapping of plan.tables) {
      const table = sourceCatalog.tables.find((t) => t.name === mapping.source);
      if (!table) throw new PlanError(`source table ${mapping.source} is in the plan but not in the source catalog`, { hint: 're-run the analysis' });
      const captured = await captureTable(deps, mapping, table);
      tables.push(captured);
      await saving;
      saving = deps.onTable?.(captured);
      saving?.catch(() => undefined); // observed when awaited; never an unhandled rejection meanwhile
    }
    await saving;
    done = true;
  } finally {
    await saving?.catch(() => undefined);
    // A failed capture is not returned: its spilled detail goes now.
    if (!done) for (const t of tables) t.detail.release();
  }
  return { capturedAt, tables };
}

const STAGE = 'pg_temp."_sensei_capture"';
const TYPED_TABLE = 'pg_temp."_sensei_typed"';
const EVALUATED_TABLE = 'pg_temp."_sensei_evaluated"';
const EVALUATED = `${EVALUATED_TABLE} AS t`;

/** What every batch of one table is captured with. */
interface TableContext {
  mapping: TableMapping;
  shape: DigestShape;
  buckets: number;
  /** The evaluated rows of staged range [lo, hi) under alias `t` (transformations applied, failing rules left out). */
  from: (lo: number, hi: number) => string;
  /** The table's direct path, with the DDL of its typed table; or why it has none. */
  direct: { plan: DirectCopy; columnsDdl: string } | { refused: string };
  /**
   * Per column, the largest hash of the table's distinct-count sketch merged so far, once it is full (else null): a
   * hash above it can never enter the table's sketch, so batches captured from now on sketch only the hashes up to it
   * (`sketchBounds`), and the merged sketch is the same.
   */
  sketchBounds: Array<string | null>;
}

/** The digests and statistics of one batch. */
interface BatchCapture {
  rowCount: number;
  /** `rowDigestLinesSql` texts, one per evaluated part, in read order. */
  lines: Array<string | null>;
  stats: ColumnStats[][];
}

async function captureTable(deps: CaptureDeps, mapping: TableMapping, table: TableDef): Promise<TableCapture> {
  const shape = shapeOf(mapping);
  const rowsTotal = await deps.source.countRows(table);
  const casts = await castableTypes(deps.target, mapping);
  const rules = mapping.columns.flatMap((c) => c.validationRules.map((r) => `coalesce(${r.predicate}, false)`));
  const select = mapping.columns
    .map((c, i) => `${casts[i] ? `CAST((${c.transformation}) AS ${c.targetType})` : `(${c.transformation})`} AS ${quoteIdent(c.targetColumn)}`)
    .join(', ');
  const ctx: TableContext = {
    mapping,
    shape,
    buckets: bucketCountFor(rowsTotal),
    from: (lo, hi) => `(SELECT ${select} FROM ${STAGE} AS src WHERE "_sensei_ord" >= ${lo} AND "_sensei_ord" < ${hi}${rules.length > 0 ? ` AND ${rules.join(' AND ')}` : ''}) AS t`,
    direct: deps.directCopy === false ? { refused: 'strategy.direct_copy is false' } : await typedPath(deps.target, mapping),
    sketchBounds: shape.columns.map(() => null),
  };

  const detail = new CaptureDetail({ table: mapping.source, dir: deps.spillDir });
  try {
    return await captureInto(deps, ctx, table, rowsTotal, detail);
  } catch (e) {
    detail.release();
    throw e;
  }
}

/** Captures the table's batches into `detail`, then its digests from it. */
async function captureInto(deps: CaptureDeps, ctx: TableContext, table: TableDef, rowsTotal: number, detail: CaptureDetail): Promise<TableCapture> {
  const { mapping, shape } = ctx;
  const concurrency = deps.target.capabilities.supportsConcurrentSessions ? Math.max(1, deps.concurrency ?? 2) : 1;
  let stats: ColumnStats[] | null = null;
  const progress: TableProgress = { table: mapping.source, rowsRead: 0, rowsTotal, rowsWritten: 0, rowsErrored: 0, done: false };
  // Batches are merged strictly in read order, whatever order their captures finish in.
  const merge = (evaluated: BatchCapture): void => {
    let rows = 0;
    for (const text of evaluated.lines) rows += detail.addLines(text);
    for (const part of evaluated.stats) stats = stats ? mergeColumnStats(stats, part) : part;
    if (stats) ctx.sketchBounds = sketchBounds(shape.columns, stats);
    progress.rowsRead += evaluated.rowCount;
    progress.rowsWritten += rows;
    progress.rowsErrored = progress.rowsRead - progress.rowsWritten;
    deps.onProgress?.({ ...progress });
  };

  const running: Array<Promise<BatchCapture>> = [];
  const batches = readAhead(deps.source.readBatches(table, { batchSize: deps.batchSize ?? 10_000 })[Symbol.asyncIterator]());
  try {
    for (let next = await batches.next(); !next.done; next = await batches.next()) {
      const capture = captureBatch(deps, ctx, next.value).catch((e: unknown) => {
        throw describeFault(mapping, e);
      });
      capture.catch(() => undefined); // observed when merged; never an unhandled rejection meanwhile
      running.push(capture);
      if (running.length >= concurrency) merge(await running.shift()!);
    }
    while (running.length > 0) merge(await running.shift()!);
  } finally {
    // After a failure: no batch capture left running, and the source read closed.
    await Promise.allSettled(running);
    await batches.return();
  }
  progress.done = true;
  deps.onProgress?.({ ...progress });
  const digests: BucketDigest[] = await detail.digests();
  return {
    source: mapping.source,
    target: mapping.target,
    shape,
    buckets: ctx.buckets,
    rowsRead: progress.rowsRead,
    rowsExpected: progress.rowsWritten,
    rowsExcluded: progress.rowsRead - progress.rowsWritten,
    digests,
    root: tableRoot(ctx.buckets, digests),
    stats: stats ?? readColumnStats(shape.columns, { n: 0 }),
    detail,
  };
}

/**
 * A target failure that is not the rows' (a timeout, a lost connection, a full disk), named with the table and what to
 * do; any other error as it is.
 */
function describeFault(mapping: TableMapping, e: unknown): unknown {
  return (
    targetFault(classifyFault(e), e, {
      doing: `capturing ${mapping.source}`,
      resume: 'then resume the run (sensei resume RUN_ID): the capture runs again from its first table',
      space: 'its temporary tables: temp_tablespaces',
    }) ?? e
  );
}

/**
 * The table's direct path (`directCopyFor`, as execution decides it), checked against the target column types as a
 * temporary table typed like the plan's target columns prints them; or why there is none. The plan's types are first
 * checked as they are written (only then do they reach DDL), then as the target's catalog prints them.
 */
async function typedPath(target: TargetConnector, mapping: TableMapping): Promise<TableContext['direct']> {
  const planned = directCopyFor(mapping, new Map(mapping.columns.map((c) => [c.targetColumn, c.targetType])));
  if ('refused' in planned) return planned;
  const columnsDdl = mapping.columns.map((c) => `${quoteIdent(c.targetColumn)} ${c.targetType}`).join(', ');
  let types: Map<string, string>;
  try {
    types = await target.transaction(async (s) => {
      await s.query(`CREATE TEMP TABLE "_sensei_typed" (${columnsDdl}) ON COMMIT DROP`);
      return columnTypes(s, TYPED_TABLE);
    });
  } catch (e) {
    if (classifyFault(e) !== 'permanent') throw e;
    return { refused: `the target could not create the typed table (SQLSTATE ${String((e as { code?: unknown }).code ?? 'unknown')})` };
  }
  const plan = directCopyFor(mapping, types);
  return 'refused' in plan ? plan : { plan, columnsDdl };
}

/**
 * Capture one batch: rows holding a NUL byte are left out (execution queues them); the rest take the direct path when
 * every row passes its checks and the typed COPY is accepted, else they are staged as text and evaluated.
 */
async function captureBatch(deps: CaptureDeps, ctx: TableContext, batch: Batch): Promise<BatchCapture> {
  const names = batch.columns.map((c) => c.name);
  const direct = 'refused' in ctx.direct ? null : ctx.direct;
  // Rows the source refused or holding a NUL byte are left out: execution queues them, they will not be in the target.
  const enc = batchLines(batch, direct?.plan ?? null, 'refused' in ctx.direct ? ctx.direct.refused : '');
  let why = enc.why;
  if (enc.direct) {
    const captured = await captureTyped(deps, ctx, direct!, batch.rowCount, enc.direct);
    if (!('refused' in captured)) {
      deps.onPath?.(ctx.mapping.source, 'direct', null);
      return captured;
    }
    why = `the target refused the typed COPY (${captured.refused})`;
  }
  deps.onPath?.(ctx.mapping.source, 'staged', why);
  return deps.target.transaction(async (s) => {
    await normaliseSession(s);
    await s.query(`CREATE TEMP TABLE "_sensei_capture" ("_sensei_ord" integer, ${names.map((n) => `${quoteIdent(n)} text`).join(', ')}) ON COMMIT DROP`);
    if (enc.kept.length > 0) await s.copyFrom(STAGE, ['_sensei_ord', ...names], stagedRows(enc));
    return { rowCount: batch.rowCount, ...(await evaluateIsolating(s, ctx.shape, ctx.buckets, ctx.from, batch.rowCount, ctx.sketchBounds)) };
  });
}

/** Thrown inside the typed transaction so that a refused COPY rolls it back whole. */
class TypedCopyRefused extends Error {
  constructor(readonly sqlstate: string) {
    super(`typed COPY refused (${sqlstate})`);
  }
}

/**
 * The batch's direct lines COPYed into the typed temporary table and hashed there, in one transaction; when the
 * target refuses the COPY (a value the type's input function rejects) the transaction is rolled back and the refusal
 * returned. No savepoint: the common case pays for none, a refused batch for one more transaction.
 */
async function captureTyped(deps: CaptureDeps, ctx: TableContext, direct: { plan: DirectCopy; columnsDdl: string }, rowCount: number, lines: Buffer): Promise<BatchCapture | { refused: string }> {
  try {
    return await deps.target.transaction(async (s) => {
      await normaliseSession(s);
      await s.query(`CREATE TEMP TABLE "_sensei_typed" (${direct.columnsDdl}) ON COMMIT DROP`);
      if (lines.length > 0) {
        try {
          await s.copyFrom(TYPED_TABLE, direct.plan.targetColumns, lines);
        } catch (e) {
          if (classifyFault(e) !== 'permanent') throw e;
          // The SQLSTATE only: a driver message may quote a value.
          throw new TypedCopyRefused(`SQLSTATE ${String((e as { code?: unknown }).code ?? 'unknown')}`);
        }
      }
      const digested = await digestRows(s, ctx.shape, ctx.buckets, `${TYPED_TABLE} AS t`, ctx.sketchBounds);
      return { rowCount, lines: [digested.lines], stats: [digested.stats] };
    });
  } catch (e) {
    if (e instanceof TypedCopyRefused) return { refused: e.sqlstate };
    throw e;
  }
}

/**
 * Which target types a cast can name now. Types the plan's DDL creates later (an enum, a domain) do not exist yet:
 * those values are hashed as the expression yields them, which prints the same as the enum label will.
 */
async function castableTypes(target: TargetConnector, mapping: TableMapping): Promise<boolean[]> {
  const res = await target.query<{ ok: unknown }>(
    'SELECT to_regtype(t) IS NOT NULL AS ok FROM unnest($1::text[]) WITH ORDINALITY AS u(t, i) ORDER BY i',
    [mapping.columns.map((c) => c.targetType)],
  );
  return res.rows.map((r) => r.ok === true || r.ok === 't' || r.ok === 'true');
}

/** The row digests (`rowDigestLinesSql`) and the column statistics of the rows of `from` (alias `t`, typed as the target columns). */
async function digestRows(s: TargetSession, shape: DigestShape, buckets: number, from: string, bounds: ReadonlyArray<string | null>): Promise<{ lines: string | null; stats: ColumnStats[] }> {
  const digests = await s.query<{ lines: string | null }>(rowDigestLinesSql(shape, buckets, from));
  const agg = await s.query<Record<string, unknown>>(columnStatsSql(shape.columns, from, '', bounds));
  return { lines: digests.rows[0]?.lines ?? null, stats: readColumnStats(shape.columns, agg.rows[0] ?? { n: 0 }) };
}

/**
 * Evaluate the transformations over staged rows [lo, hi). When the statement is refused (a cast execution would also
 * fail on), halve the range under savepoints until the failing rows stand alone; they are excluded, as execution
 * sends them to the error queue. A failure that is not the rows' (a lost connection, a timeout) is thrown, not taken
 * for bad rows.
 */
async function evaluateIsolating(
  s: TargetSession,
  shape: DigestShape,
  buckets: number,
  from: (lo: number, hi: number) => string,
  count: number,
  bounds: ReadonlyArray<string | null>,
): Promise<{ lines: Array<string | null>; stats: ColumnStats[][] }> {
  const lines: Array<string | null> = [];
  const stats: ColumnStats[][] = [];
  const attempt = async (lo: number, hi: number): Promise<void> => {
    if (hi <= lo) return;
    const done = await underSavepoint(s, 'sensei_capture', async () => {
      // The transformations run once: their result is kept in a temporary table that digests and statistics read.
      await s.query(`CREATE TEMP TABLE ${EVALUATED_TABLE} ON COMMIT DROP AS SELECT * FROM ${from(lo, hi)}`);
      const part = await digestRows(s, shape, buckets, EVALUATED, bounds);
      await s.query(`DROP TABLE ${EVALUATED_TABLE}`);
      return part;
    });
    if (done.ok) {
      lines.push(done.value.lines);
      stats.push(done.value.stats);
      return;
    }
    if (hi - lo === 1) return;
    const mid = lo + Math.floor((hi - lo) / 2);
    await attempt(lo, mid);
    await attempt(mid, hi);
  };
  await attempt(0, count);
  return { lines, stats };
}
