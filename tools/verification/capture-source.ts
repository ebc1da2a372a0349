// Capture the source before execution: per table, rows as they will look after transformation, hashed into
// key-range buckets, and column statistics, so verification compares with the source as it was at capture time.
import type { TableDef } from '../../core/catalog.js';
import type { Catalog } from '../../core/catalog.js';
import { PlanError } from '../../core/errors.js';
import type { Plan, TableMapping } from '../../core/plan.js';
import type { TableProgress } from '../../core/run.js';
import type { SourceConnector, TargetConnector, TargetSession } from '../../connectors/connector.js';
import { copyLine, hasNulByte } from '../execution/copy-text.js';
import { quoteIdent } from '../planning/identifiers.js';
import {
  bucketCountFor,
  bucketDigest,
  columnStatsSql,
  mergeColumnStats,
  normaliseSession,
  readColumnStats,
  rowDigestsSql,
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
   * Per bucket: `[key, rowHash]` with `key` the JSON array of the key values as text and `rowHash` the first 16 hex
   * digits of the row's md5. Holds key values: kept in memory, stored only encrypted.
   */
  detail: Map<number, Array<[string, string]>>;
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
  onProgress?: (p: TableProgress) => void;
  /** Called once per table when it is captured (e.g. to store it and drop the detail from memory). */
  onTable?: (t: TableCapture) => Promise<void>;
}

/** The digest shape of a mapped table: mapped target columns in plan order, keyed by the target columns of the source key. */
export function shapeOf(mapping: TableMapping): DigestShape {
  const key = mapping.sourceKey.map((k) => mapping.columns.find((c) => c.sourceColumn === k)?.targetColumn);
  return {
    columns: mapping.columns.map((c) => ({ name: c.targetColumn, type: c.targetType })),
    key: key.every((k): k is string => k !== undefined) ? key : [],
  };
}

export async function captureSource(deps: CaptureDeps, plan: Plan, sourceCatalog: Catalog): Promise<SourceCapture> {
  const capturedAt = new Date().toISOString();
  const tables: TableCapture[] = [];
  for (const mapping of plan.tables) {
    const table = sourceCatalog.tables.find((t) => t.name === mapping.source);
    if (!table) throw new PlanError(`source table ${mapping.source} is in the plan but not in the source catalog`, { hint: 're-run the analysis' });
    const captured = await captureTable(deps, mapping, table);
    await deps.onTable?.(captured);
    tables.push(captured);
  }
  return { capturedAt, tables };
}

const STAGE = 'pg_temp."_sensei_capture"';
const EVALUATED_TABLE = 'pg_temp."_sensei_evaluated"';
const EVALUATED = `${EVALUATED_TABLE} AS t`;

async function captureTable(deps: CaptureDeps, mapping: TableMapping, table: TableDef): Promise<TableCapture> {
  const shape = shapeOf(mapping);
  const rowsTotal = await deps.source.countRows(table);
  const buckets = bucketCountFor(rowsTotal);
  const casts = await castableTypes(deps.target, mapping);
  const rules = mapping.columns.flatMap((c) => c.validationRules.map((r) => `coalesce(${r.predicate}, false)`));
  const select = mapping.columns
    .map((c, i) => `${casts[i] ? `CAST((${c.transformation}) AS ${c.targetType})` : `(${c.transformation})`} AS ${quoteIdent(c.targetColumn)}`)
    .join(', ');
  const from = (lo: number, hi: number): string =>
    `(SELECT ${select} FROM ${STAGE} AS src WHERE "_sensei_ord" >= ${lo} AND "_sensei_ord" < ${hi}${rules.length > 0 ? ` AND ${rules.join(' AND ')}` : ''}) AS t`;

  const hashes = new Map<number, string[]>();
  const detail = new Map<number, Array<[string, string]>>();
  let stats: ColumnStats[] | null = null;
  const progress: TableProgress = { table: mapping.source, rowsRead: 0, rowsTotal, rowsWritten: 0, rowsErrored: 0, done: false };

  for await (const batch of deps.source.readBatches(table, { batchSize: deps.batchSize ?? 10_000 })) {
    const names = batch.columns.map((c) => c.name);
    const lines: string[] = [];
    for (let r = 0; r < batch.rowCount; r++) {
      const values = batch.values.map((v) => v[r] ?? null);
      if (values.some(hasNulByte)) continue; // execution queues such rows: they will not be in the target
      lines.push(`${r}\t${copyLine(values)}`);
    }
    const evaluated = await deps.target.transaction(async (s) => {
      await normaliseSession(s);
      await s.query(`CREATE TEMP TABLE "_sensei_capture" ("_sensei_ord" integer, ${names.map((n) => `${quoteIdent(n)} text`).join(', ')}) ON COMMIT DROP`);
      if (lines.length > 0) await s.copyFrom(STAGE, ['_sensei_ord', ...names], `${lines.join('\n')}\n`);
      return evaluateIsolating(s, shape, buckets, from, batch.rowCount);
    });
    for (const row of evaluated.rows) {
      const b = Number(row.b);
      let hs = hashes.get(b);
      if (!hs) hashes.set(b, (hs = []));
      hs.push(row.h);
      let d = detail.get(b);
      if (!d) detail.set(b, (d = []));
      d.push([JSON.stringify(shape.key.map((_, i) => row[`k${i}`] ?? null)), row.h.slice(0, 16)]);
    }
    for (const part of evaluated.stats) stats = stats ? mergeColumnStats(stats, part) : part;
    progress.rowsRead += batch.rowCount;
    progress.rowsWritten += evaluated.rows.length;
    progress.rowsErrored = progress.rowsRead - progress.rowsWritten;
    deps.onProgress?.({ ...progress });
  }
  progress.done = true;
  deps.onProgress?.({ ...progress });
  const digests: BucketDigest[] = [...hashes.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([bucket, hs]) => ({ bucket, rows: hs.length, digest: bucketDigest(hs) }));
  return {
    source: mapping.source,
    target: mapping.target,
    shape,
    buckets,
    rowsRead: progress.rowsRead,
    rowsExpected: progress.rowsWritten,
    rowsExcluded: progress.rowsRead - progress.rowsWritten,
    digests,
    root: tableRoot(buckets, digests),
    stats: stats ?? readColumnStats(shape.columns, { n: 0 }),
    detail,
  };
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

type DigestRow = { b: string; h: string } & Record<string, string | null>;

/**
 * Evaluate the transformations over staged rows [lo, hi). When the statement fails (a cast execution would also
 * fail on), halve the range under savepoints until the failing rows stand alone; they are excluded, as execution
 * sends them to the error queue.
 */
async function evaluateIsolating(
  s: TargetSession,
  shape: DigestShape,
  buckets: number,
  from: (lo: number, hi: number) => string,
  count: number,
): Promise<{ rows: DigestRow[]; stats: ColumnStats[][] }> {
  const rows: DigestRow[] = [];
  const stats: ColumnStats[][] = [];
  const attempt = async (lo: number, hi: number): Promise<void> => {
    if (hi <= lo) return;
    await s.query('SAVEPOINT "sensei_capture"');
    try {
      // The transformations run once: their result is kept in a temporary table that digests and statistics read.
      await s.query(`CREATE TEMP TABLE ${EVALUATED_TABLE} ON COMMIT DROP AS SELECT * FROM ${from(lo, hi)}`);
      const digests = await s.query<DigestRow>(rowDigestsSql(shape, buckets, EVALUATED));
      const agg = await s.query<Record<string, unknown>>(columnStatsSql(shape.columns, EVALUATED));
      await s.query(`DROP TABLE ${EVALUATED_TABLE}`);
      await s.query('RELEASE SAVEPOINT "sensei_capture"');
      rows.push(...digests.rows);
      stats.push(readColumnStats(shape.columns, agg.rows[0] ?? { n: 0 }));
    } catch {
      await s.query('ROLLBACK TO SAVEPOINT "sensei_capture"');
      await s.query('RELEASE SAVEPOINT "sensei_capture"');
      if (hi - lo === 1) return;
      const mid = lo + Math.floor((hi - lo) / 2);
      await attempt(lo, mid);
      await attempt(mid, hi);
    }
  };
  await attempt(0, count);
  return { rows, stats };
}
