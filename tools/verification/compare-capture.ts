// Compare the target with the captured source: bucket digests first, then, only inside differing buckets, row by
// row to name the key of every missing, extra or changed row (never a value), and column statistics.
import type { CheckResult, Finding, VerificationReport } from '../../core/findings.js';
import type { Plan } from '../../core/plan.js';
import type { TargetConnector } from '../../connectors/connector.js';
import { qualified } from '../planning/identifiers.js';
import { slots, type Slot } from '../execution/slots.js';
import type { TableCapture } from './capture-source.js';
import { DETAIL_PARTITION_SHIFT, sortedBuckets } from './capture-detail.js';
import { detailRowsJson, type RowSink } from '../certification/row-hash-file.js';
import {
  bucketDigestsSql,
  columnStatsSql,
  distinctEstimate,
  normaliseSession,
  readColumnStats,
  readSketchOf,
  rowDigestsSql,
  sketchBounds,
  sketchOf,
  sameStat,
  sortedBucketDigest,
  SKETCH_SIZE,
  tableRoot,
  type BucketDigest,
  type ColumnStats,
  type DigestShape,
} from './row-digest.js';

/**
 * A table whose target rows verification found equal to the capture in every bucket (same rows, same digests): the
 * root both share, the bucket count and the rows (`VerificationReport.matched`).
 */
export type MatchedTable = NonNullable<VerificationReport['matched']>[number];

/** A captured table as verification needs it: the detail (keys and row hashes) is loaded only for differing buckets. */
export type CapturedTable = Omit<TableCapture, 'detail'>;

/** Loads `[key, rowHash]` pairs of the given buckets of a captured table (decrypting them from the store). */
export type CaptureDetailLoader = (table: CapturedTable, buckets: number[]) => Promise<Map<number, Array<[string, string]>>>;

/** A stored capture as verification reads it. */
export interface VerifyCapture {
  tables: CapturedTable[];
  loadDetail: CaptureDetailLoader;
}

export interface TargetTableDigest {
  digests: BucketDigest[];
  root: string;
  rows: number;
  stats: ColumnStats[];
}

/** One statement over the target in its own session, with the session settings the digests are made under. */
function normalisedQuery(target: TargetConnector, run: Slot) {
  return <R>(sql: string): Promise<R[]> =>
    run(() =>
      target.transaction(async (s) => {
        await normaliseSession(s);
        return (await s.query<R>(sql)).rows;
      }),
    );
}

/** A target table's bucket digests and root, hashed the way the capture hashed the source, in the database (one scan). */
export async function digestTargetBuckets(target: TargetConnector, table: string, shape: DigestShape, buckets: number, slot?: Slot): Promise<Omit<TargetTableDigest, 'stats'>> {
  const query = normalisedQuery(target, slot ?? ((fn) => fn()));
  const rows = await query<{ b: number | string; n: number | string; d: string }>(bucketDigestsSql(shape, buckets, `${qualified(target.schema, table)} AS t`));
  const digests = rows.map((r) => ({ bucket: Number(r.b), rows: Number(r.n), digest: r.d }));
  return { digests, root: tableRoot(buckets, digests), rows: digests.reduce((a, d) => a + d.rows, 0) };
}

/**
 * Hash a target table the way the capture hashed the source (`digestTargetBuckets`) and take its column statistics:
 * two scans, each in its own session; `slot` says when each may run (default: both at once where the target takes
 * concurrent sessions). `expected` (the captured statistics) bounds each distinct-count sketch to the hashes the
 * captured one reached (`sketchBounds`): a column whose bounded sketch comes out short is sketched again unbounded, so
 * the statistics are those of the whole table either way.
 */
export async function digestTargetTable(target: TargetConnector, table: string, shape: DigestShape, buckets: number, slot?: Slot, expected?: ColumnStats[]): Promise<TargetTableDigest> {
  const run = slot ?? slots(target.capabilities.supportsConcurrentSessions ? 2 : 1);
  const from = `${qualified(target.schema, table)} AS t`;
  const bounds = sketchBounds(shape.columns, expected);
  const [digest, agg] = await Promise.all([
    digestTargetBuckets(target, table, shape, buckets, run),
    normalisedQuery(target, run)<Record<string, unknown>>(columnStatsSql(shape.columns, from, '', bounds)),
  ]);
  const stats = readColumnStats(shape.columns, agg[0] ?? { n: 0 });
  await Promise.all(
    stats.map(async (st, i) => {
      if (bounds[i] && (st.sketch?.length ?? 0) < SKETCH_SIZE) st.sketch = readSketchOf((await normalisedQuery(target, run)<Record<string, unknown>>(sketchOf(st.column, from)))[0]);
    }),
  );
  return { ...digest, stats };
}


/** One target row as the row-hash file lists it: bucket, key (JSON array of the key values as text), row md5 (32 hex digits). */
export type TargetRowHash = [number, string, string];


/**
 * One pass over the whole table: every row's `[bucket, key, rowHash]` goes to `onRows` (in bucket order, within a
 * bucket in row-hash order, at most `rowsPerFetch` rows at a time, default 10,000), and the bucket digests and root,
 * equal to what `digestTargetTable` computes in the database, are computed from the full row hashes as they stream by.
 * The database sorts the rows. Where the target streams a COPY out (`TargetSession.copyTo`: PostgreSQL servers) they
 * come that way, hashed and sorted by a parallel query, as text; elsewhere through a cursor, a chunk at a time. Either
 * way memory does not grow with the table.
 */
export async function digestTargetRows(
  target: TargetConnector,
  table: string,
  shape: DigestShape,
  buckets: number,
  onRows: (rows: TargetRowHash[]) => Promise<void> | void,
  rowsPerFetch = 10_000,
  fromBucket = 0,
): Promise<{ digests: BucketDigest[]; root: string }> {
  const perChunk = Math.max(1, Math.floor(rowsPerFetch));
  // Only the buckets from `fromBucket` on (`capturedRows` takes the others from the capture).
  const where = fromBucket > 0 ? ` WHERE x.b >= ${Math.floor(fromBucket)}` : '';
  const digests: BucketDigest[] = [];
  let open: { bucket: number; rows: number; hashes: ReturnType<typeof sortedBucketDigest> } | null = null;
  const closeBucket = (): void => {
    if (open) digests.push({ bucket: open.bucket, rows: open.rows, digest: open.hashes.digest() });
    open = null;
  };
  let chunk: TargetRowHash[] = [];
  const add = (b: number, h: string, key: string): void => {
    if (open?.bucket !== b) {
      closeBucket();
      open = { bucket: b, rows: 0, hashes: sortedBucketDigest() };
    }
    open!.rows++;
    open!.hashes.add(h);
    chunk.push([b, key, h]);
  };
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    const rows = chunk;
    chunk = [];
    await onRows(rows);
  };
  const from = `${qualified(target.schema, table)} AS t`;
  await target.transaction(async (s) => {
    await normaliseSession(s);
    if (s.copyTo) {
      // Sorted as bucketDigest sorts: by bucket, then the hex hashes byte-wise. Lines `b TAB h TAB key`, the key as
      // JSON (rowDigestLinesSql's): COPY's text format then escapes only backslashes, as JSON holds no raw tab or
      // newline.
      const keyJson = shape.key.length > 0 ? `array_to_json(ARRAY[${shape.key.map((_, i) => `x."k${i}"`).join(', ')}])::text` : `'[]'`;
      let rest = '';
      await s.copyTo(`SELECT x.b, x.h, ${keyJson} FROM (${rowDigestsSql(shape, buckets, from)}) AS x${where} ORDER BY x.b, x.h COLLATE "C"`, async (text) => {
        const all = rest + text;
        let at = 0;
        for (let nl = all.indexOf('\n'); nl >= 0; nl = all.indexOf('\n', at)) {
          const t1 = all.indexOf('\t', at);
          const t2 = all.indexOf('\t', t1 + 1);
          const key = all.slice(t2 + 1, nl);
          add(Number(all.slice(at, t1)), all.slice(t1 + 1, t2), key.includes('\\') ? key.replaceAll('\\\\', '\\') : key);
          at = nl + 1;
          if (chunk.length >= perChunk) await flush();
        }
        rest = all.slice(at);
      });
      await flush();
      return;
    }
    await s.query(`DECLARE "sensei_target_rows" NO SCROLL CURSOR FOR SELECT * FROM (${rowDigestsSql(shape, buckets, from)}) AS x${where} ORDER BY b, h COLLATE "C"`);
    for (;;) {
      const res = await s.query<Record<string, string | null>>(`FETCH FORWARD ${perChunk} FROM "sensei_target_rows"`);
      for (const row of res.rows) add(Number(row.b), String(row.h), JSON.stringify(shape.key.map((_, i) => row[`k${i}`] ?? null)));
      await flush();
      if (res.rows.length < perChunk) break;
    }
    await s.query('CLOSE "sensei_target_rows"');
  });
  closeBucket();
  return { digests, root: tableRoot(buckets, digests) };
}

/**
 * Reads partition `p` (buckets `16p`–`16p + 15`) of a captured table's detail, decrypted (`CaptureDetail.partition`);
 * null when the capture keeps no detail in that form (stored before detail files).
 */
export type DetailPartitionReader = (table: CapturedTable, p: number) => Promise<Buffer[] | null>;

/**
 * The rows of a table whose every bucket verification found equal to the capture (`MatchedTable`), from the capture's
 * detail instead of the target, as the row-hash file's JSON (`detailRowsJson`): the same rows, order and digests
 * `digestTargetRows` streams from the target. The detail is read a partition (16 buckets) at a time; a bucket's rows
 * go to `onRows` only once they give the bucket's captured digest and row count. From the first bucket that does not
 * (a detail changed or lost since verification), or when the detail cannot be read this way, the rest of the table is
 * streamed from the target (`digestTargetRows` from that bucket on): `fromTarget` says from which bucket, `fromCapture`
 * how many buckets came from the capture.
 */
export async function capturedRows(
  target: TargetConnector,
  captured: CapturedTable,
  readPartition: DetailPartitionReader,
  onRows: RowSink,
  rowsPerFetch = 10_000,
): Promise<{ digests: BucketDigest[]; root: string; fromTarget: number | null; fromCapture: number }> {
  const expected = [...captured.digests].sort((a, b) => a.bucket - b.bucket);
  const digests: BucketDigest[] = [];
  let fromTarget: number | null = null;
  reading: for (let i = 0; i < expected.length; ) {
    const partition = expected[i]!.bucket >> DETAIL_PARTITION_SHIFT;
    const group: BucketDigest[] = [];
    for (; i < expected.length && expected[i]!.bucket >> DETAIL_PARTITION_SHIFT === partition; i++) group.push(expected[i]!);
    const plains = await readPartition(captured, partition);
    const found = plains ? sortedBuckets(plains) : null;
    // The partition's buckets must be exactly the captured ones: the first that differs is where the target takes over.
    const stored = new Map(found?.buckets.map((b) => [b.bucket, b]) ?? []);
    const all = [...new Set([...group.map((d) => d.bucket), ...stored.keys()])].sort((x, y) => x - y);
    for (const bucket of all) {
      const want = group.find((d) => d.bucket === bucket);
      const got = stored.get(bucket);
      const rows = want && got && got.rows.length === want.rows ? detailRowsJson(found!.bytes, bucket, got.rows) : null;
      if (!want || !rows || rows.digest !== want.digest) {
        fromTarget = bucket;
        break reading;
      }
      digests.push(want);
      await onRows({ json: rows.json, rows: want.rows });
    }
  }
  const fromCapture = digests.length;
  if (fromTarget !== null) digests.push(...(await digestTargetRows(target, captured.target, captured.shape, captured.buckets, onRows, rowsPerFetch, fromTarget)).digests);
  return { digests, root: tableRoot(captured.buckets, digests), fromTarget, fromCapture };
}

/** Reads the partitions of captures held in memory (tests, and certification in the same process as the capture). */
export function inMemoryPartitions(tables: TableCapture[]): DetailPartitionReader {
  return async (table, p) => {
    const t = tables.find((x) => x.target === table.target);
    return t ? t.detail.partition(p) : [];
  };
}

/** `[key, rowHash]` of the target rows in the buckets `which`, like the capture's detail. */
export async function targetRowsIn(target: TargetConnector, table: string, shape: DigestShape, buckets: number, which: number[]): Promise<Map<number, Array<[string, string]>>> {
  const out = new Map<number, Array<[string, string]>>();
  if (which.length === 0) return out;
  const from = `${qualified(target.schema, table)} AS t`;
  const rows = await target.transaction(async (s) => {
    await normaliseSession(s);
    const res = await s.query<Record<string, string | null>>(`SELECT * FROM (${rowDigestsSql(shape, buckets, from)}) AS x WHERE b = ANY($1::int[])`, [which]);
    return res.rows;
  });
  for (const row of rows) {
    const b = Number(row.b);
    let d = out.get(b);
    if (!d) out.set(b, (d = []));
    d.push([JSON.stringify(shape.key.map((_, i) => row[`k${i}`] ?? null)), String(row.h)]);
  }
  return out;
}

/** Buckets whose row count or digest differs between two digests of the same table. */
export function differingBuckets(expected: BucketDigest[], actual: BucketDigest[]): number[] {
  const a = new Map(actual.map((d) => [d.bucket, d]));
  const e = new Map(expected.map((d) => [d.bucket, d]));
  const out = new Set<number>();
  for (const d of expected) {
    const x = a.get(d.bucket);
    if (!x || x.digest !== d.digest || x.rows !== d.rows) out.add(d.bucket);
  }
  for (const d of actual) if (!e.has(d.bucket)) out.add(d.bucket);
  return [...out].sort((x, y) => x - y);
}

export interface RowDifferences {
  missing: Array<Record<string, string | null>>;
  extra: Array<Record<string, string | null>>;
  changed: Array<Record<string, string | null>>;
  /** How many rows of each kind differ, when the lists hold only the first ones (see `addRowDifferences`). */
  counts?: { missing: number; extra: number; changed: number };
}

/**
 * Row-level differences inside the given buckets. With a key, rows are matched by key; without one, by content
 * (a changed row then shows as one missing and one extra row, named by its position in the hash order).
 */
export function diffRows(shape: DigestShape, expected: Map<number, Array<[string, string]>>, actual: Map<number, Array<[string, string]>>, which: number[]): RowDifferences {
  const out: RowDifferences = { missing: [], extra: [], changed: [] };
  const named = (key: string, hash: string): Record<string, string | null> => {
    if (shape.key.length === 0) return { row_hash: hash };
    const values = JSON.parse(key) as Array<string | null>;
    return Object.fromEntries(shape.key.map((k, i) => [k, values[i] ?? null]));
  };
  for (const b of which) {
    // A capture stored before the full md5 was kept holds its first 16 hex digits: both sides are then compared by those.
    let width = 32;
    for (const rows of [expected.get(b) ?? [], actual.get(b) ?? []]) for (const [, h] of rows) width = Math.min(width, h.length);
    const cut = (rows: Array<[string, string]>): Array<[string, string]> => (width === 32 ? rows : rows.map(([k, h]) => [k, h.slice(0, width)]));
    const exp = cut(expected.get(b) ?? []);
    const act = cut(actual.get(b) ?? []);
    if (shape.key.length > 0) {
      const a = new Map(act);
      const e = new Map(exp);
      for (const [k, h] of exp) {
        const got = a.get(k);
        if (got === undefined) out.missing.push(named(k, h));
        else if (got !== h) out.changed.push(named(k, h));
      }
      for (const [k, h] of act) if (!e.has(k)) out.extra.push(named(k, h));
    } else {
      const count = new Map<string, number>();
      for (const [, h] of exp) count.set(h, (count.get(h) ?? 0) + 1);
      for (const [, h] of act) count.set(h, (count.get(h) ?? 0) - 1);
      for (const [h, n] of count) {
        for (let i = 0; i < n; i++) out.missing.push(named('', h));
        for (let i = 0; i < -n; i++) out.extra.push(named('', h));
      }
    }
  }
  return out;
}

/** How many rows of each kind a report lists per table; the rest are counted in `rows_differ`. */
const LISTED = 50;

export const keyLabel = (key: Record<string, string | null>): string =>
  Object.entries(key)
    .map(([k, v]) => `${k}=${v ?? 'NULL'}`)
    .join(', ');

/**
 * Add `part` to `into` keeping only as many keys of each kind as a report lists, and counting the rest, so that a
 * table compared bucket by bucket holds a bounded number of keys however many rows differ.
 */
export function addRowDifferences(into: RowDifferences, part: RowDifferences): void {
  const counts = (into.counts ??= { missing: into.missing.length, extra: into.extra.length, changed: into.changed.length });
  for (const kind of ['missing', 'extra', 'changed'] as const) {
    into[kind].push(...part[kind].slice(0, Math.max(0, LISTED - into[kind].length)));
    counts[kind] += part.counts?.[kind] ?? part[kind].length;
  }
}

/** Row-level findings for one table's differences. */
export function rowFindings(table: string, diff: RowDifferences): Finding[] {
  const findings: Finding[] = [];
  const list = (code: 'row_missing' | 'row_extra' | 'row_changed', keys: Array<Record<string, string | null>>, what: string) => {
    for (const key of keys.slice(0, LISTED)) {
      findings.push({ code, path: [table, keyLabel(key)], table, key, message: `${table} (${keyLabel(key)}): ${what}` });
    }
  };
  list('row_missing', diff.missing, 'row of the captured source is missing from the target');
  list('row_extra', diff.extra, 'row in the target that the captured source did not have');
  list('row_changed', diff.changed, 'row differs from the captured source');
  const { missing, extra, changed } = diff.counts ?? { missing: diff.missing.length, extra: diff.extra.length, changed: diff.changed.length };
  const total = missing + extra + changed;
  if (total > 0) {
    findings.push({
      code: 'rows_differ',
      path: [table],
      table,
      missing,
      extra,
      changed,
      message: `${table}: ${missing} missing, ${extra} extra, ${changed} changed row(s) against the source as captured${total > 3 * LISTED ? ` (first ${LISTED} of each listed)` : ''}`,
    });
  }
  return findings;
}

/**
 * Keys (as the capture's detail writes them) of rows the run queued instead of writing, per target table. Execution
 * can queue rows the capture could not foresee (a parent rejected, so the child is an orphan; a unique violation):
 * such a row is accounted for, not missing. Keys are matched by their text, so a key the transformation changes
 * (e.g. trimmed) is not matched and stays reported as missing.
 */
export function queuedKeysByTarget(plan: Plan, entries: Array<{ table: string; key: unknown }>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const e of entries) {
    const mapping = plan.tables.find((t) => t.source === e.table);
    if (!mapping || mapping.sourceKey.length === 0 || e.key === null || typeof e.key !== 'object') continue;
    const key = e.key as Record<string, unknown>;
    let set = out.get(mapping.target);
    if (!set) out.set(mapping.target, (set = new Set()));
    set.add(JSON.stringify(mapping.sourceKey.map((k) => (key[k] === null || key[k] === undefined ? null : String(key[k])))));
  }
  return out;
}

/**
 * Compare every captured table with the target; returns the content check and the statistics check. Rows in
 * `queued` are expected to be absent. Statistics of a table with such rows cannot be compared (the capture keeps no
 * values to subtract) and are skipped, said in the check's name.
 */
export async function compareWithCapture(
  target: TargetConnector,
  tables: CapturedTable[],
  loadDetail: CaptureDetailLoader,
  queued: Map<string, Set<string>> = new Map(),
  retried: Map<string, Set<string>> = new Map(),
): Promise<{ checks: CheckResult[]; matched: MatchedTable[] }> {
  const matched: MatchedTable[] = [];
  const skippedStats: string[] = [];
  let exempted = 0;
  const content: Finding[] = [];
  const statistics: Finding[] = [];
  let rowsChecked = 0;
  let statsChecked = 0;
  const existing = new Set((await target.catalog()).tables.map((t) => t.name));
  // The digests and statistics are computed in the database, a scan each: two scans at a time where the target takes
  // concurrent sessions (the digests and statistics of one table, or of two), while the findings are worked out.
  const slot = slots(target.capabilities.supportsConcurrentSessions ? 2 : 1);
  const digests = new Map<string, Promise<TargetTableDigest>>();
  for (const captured of tables) {
    if (!existing.has(captured.target) || digests.has(captured.target)) continue;
    const pending = digestTargetTable(target, captured.target, captured.shape, captured.buckets, slot, captured.stats);
    pending.catch(() => undefined); // observed where it is awaited below; never an unhandled rejection meanwhile
    digests.set(captured.target, pending);
  }
  for (const captured of tables) {
    if (!existing.has(captured.target)) {
      content.push({ code: 'missing_table', path: [captured.target], message: `target table ${captured.target} does not exist, so its rows cannot be compared` });
      continue;
    }
    const actual = await digests.get(captured.target)!;
    rowsChecked += captured.rowsExpected;
    const which = differingBuckets(captured.digests, actual.digests);
    if (which.length === 0 && actual.root === captured.root) matched.push({ table: captured.target, buckets: captured.buckets, root: actual.root, rows: actual.rows });
    if (which.length > 0) {
      const [exp, act] = [await loadDetail(captured, which), await targetRowsIn(target, captured.target, captured.shape, captured.buckets, which)];
      for (const [b, list] of exp) exp.set(b, list.filter(([k]) => !(queued.get(captured.target)?.has(k) && !act.get(b)?.some(([x]) => x === k))));
      const later = retried.get(captured.target);
      if (later && later.size > 0) {
        for (const [b, list] of exp) exp.set(b, list.filter(([k]) => !later.has(k)));
        for (const [b, list] of act) {
          const kept = list.filter(([k]) => !later.has(k));
          exempted += list.length - kept.length;
          act.set(b, kept);
        }
      }
      content.push(...rowFindings(captured.target, diffRows(captured.shape, exp, act, which)));
    }
    if (((queued.get(captured.target)?.size ?? 0) > 0 && actual.rows !== captured.rowsExpected) || (retried.get(captured.target)?.size ?? 0) > 0) {
      skippedStats.push(captured.target);
      continue;
    }
    statistics.push(...statFindings(captured.target, captured.stats, actual.stats));
    statsChecked += captured.stats.length;
  }
  const checks: CheckResult[] = [
    {
      perspective: 'statistical',
      check: `rows equal the source as captured (bucket hashes, bisected to keys)${exempted > 0 ? ` (${exempted} row(s) written by errors retry under a corrected transformation not compared)` : ''}`,
      passed: content.length === 0, checked: rowsChecked, findings: content },
    {
      perspective: 'statistical',
      check: `column statistics equal the source as captured${skippedStats.length > 0 ? ` (not compared for ${skippedStats.join(', ')}: rows queued during execution or written by errors retry)` : ''}`,
      passed: statistics.length === 0, checked: statsChecked, findings: statistics },
  ];
  return { checks, matched };
}

const sameSketch = (a: string[], b: string[]): boolean => a.length === b.length && a.every((h, i) => h === b[i]);

function statFindings(table: string, expected: ColumnStats[], actual: ColumnStats[]): Finding[] {
  const findings: Finding[] = [];
  for (const e of expected) {
    const a = actual.find((x) => x.column === e.column);
    if (!a) continue;
    const pairs: Array<[string, string | null, string | null]> = [
      ['nulls', String(e.nulls), String(a.nulls)],
      [e.kind === 'text' ? 'min_length' : 'min', e.min, a.min],
      [e.kind === 'text' ? 'max_length' : 'max', e.max, a.max],
      [e.kind === 'text' ? 'total_length' : 'sum', e.sum, a.sum],
    ];

    for (const [statistic, exp, act] of pairs) {
      if (sameStat(exp, act, statistic === 'nulls' ? 'numeric' : e.kind)) continue;
      // min and max of a value column are source values: the finding names the statistic, never the value.
      const shown = statistic === 'min' || statistic === 'max' ? null : undefined;
      findings.push({
        code: 'stat_mismatch',
        path: [table, e.column, statistic],
        statistic,
        expected: shown === null ? null : exp,
        actual: shown === null ? null : act,
        message:
          shown === null
            ? `${table}.${e.column}: ${statistic} differs from the captured source`
            : `${table}.${e.column}: ${statistic} is ${act ?? 'NULL'} in the target, ${exp ?? 'NULL'} in the captured source`,
      });
    }
    // The sketches (hashes) are compared, not only the estimates: equal values give equal sketches, and a rounded
    // estimate of a large column can hide a value that became a duplicate. Captures made before the sketch hold none.
    if (e.sketch && a.sketch && !sameSketch(e.sketch, a.sketch)) {
      const [exp, act] = [distinctEstimate(e.sketch), distinctEstimate(a.sketch)];
      const about = (sketch: string[]): string => (sketch.length < SKETCH_SIZE ? '' : 'about ');
      findings.push({
        code: 'stat_mismatch',
        path: [table, e.column, 'distinct'],
        statistic: 'distinct',
        expected: String(exp),
        actual: String(act),
        // Equal counts with different sketches: the same number of values, but not the same values.
        message:
          act === exp
            ? `${table}.${e.column}: the set of distinct values differs from the captured source: ${about(a.sketch) || about(e.sketch)}${act} distinct in both, but not the same values`
            : `${table}.${e.column}: the set of distinct values differs from the captured source (${about(a.sketch)}${act} distinct in the target, ${about(e.sketch)}${exp} in the captured source)`,
      });
    }
  }
  return findings;
}

/** Loader for a capture held in memory (tests, and verification in the same process as the capture). */
export function inMemoryDetail(tables: TableCapture[]): CaptureDetailLoader {
  return async (table, which) => {
    const t = tables.find((x) => x.target === table.target);
    return t ? t.detail.select(which) : new Map(which.map((b) => [b, []]));
  };
}
