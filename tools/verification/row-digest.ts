// One definition of a row's digest, its key-range bucket and its column statistics, shared by the capture of the
// source (rows as they will look after transformation) and the hashing of the target, so equal rows hash equal.
import { createHash } from 'node:crypto';
import type { TargetSession } from '../../connectors/connector.js';
import { quoteIdent } from '../planning/identifiers.js';

/**
 * Settings that fix how values print (time zone, date style, float digits), applied with SET LOCAL inside the
 * transaction that hashes, so timestamps, floats and intervals print the same on both sides whatever the server's
 * defaults.
 */
export async function normaliseSession(s: TargetSession): Promise<void> {
  // set_config(…, true) is SET LOCAL: the settings in one round trip. Besides the four that fix how values print, two
  // that only make the hashing cheaper: no JIT (each process of a parallel scan spent 0.7–1 s compiling expressions
  // that are md5 and text output calls, which JIT does not speed up), and sorts of a table's row hashes in memory
  // rather than in temporary files.
  await s.query(
    `SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true), set_config('IntervalStyle', 'postgres', true), set_config('extra_float_digits', '1', true), set_config('jit', 'off', true), set_config('work_mem', '64MB', true)`,
  );
}

/** A column as hashed: its target name and target type (PostgreSQL spelling). */
export interface DigestColumn {
  name: string;
  type: string;
}

/**
 * How a row's key text picks its bucket:
 * - `hashtextextended`: PostgreSQL's `hashtextextended(key text, 0)`, masked to the bucket count. What captures and
 *   certificates use now: on a 2.8M-row table the whole bucket-digest query took 1.2–2.2 s of server CPU against
 *   4.5–6.2 s with md5 (measured with one process, back to back).
 * - `md5`: the first 32 bits of md5(key text), masked. What captures and certificates made before used; absent in
 *   them, and still read.
 * Either way the bucket depends on the key alone, so a changed row stays in its bucket and bisection finds it.
 */
export type BucketHash = 'md5' | 'hashtextextended';

/** The bucket hash of captures and certificates made now. */
export const BUCKET_HASH: BucketHash = 'hashtextextended';

/** The columns of one table as hashed, in plan order, and the target columns that identify a row. */
export interface DigestShape {
  columns: DigestColumn[];
  /** Target key columns in key order; empty: rows are identified by their content. */
  key: string[];
  /** How the key picks the bucket. Absent: `md5` (shapes stored before the choice existed). */
  bucketHash?: BucketHash;
}

/** Power-of-two bucket count for `rows` rows: about 512 rows per bucket, between 1 and 4096 buckets. */
export function bucketCountFor(rows: number): number {
  let b = 1;
  while (b < 4096 && b * 512 < rows) b *= 2;
  return b;
}

const col = (name: string): string => `t.${quoteIdent(name)}`;
const rowText = (names: string[]): string => `ROW(${names.map(col).join(', ')})::text`;

function keyText(shape: DigestShape): string {
  return shape.key.length > 0 ? rowText(shape.key) : rowText(shape.columns.map((c) => c.name));
}

/** The bucket of a row (an int): the shape's bucket hash of its key text, masked to `buckets` (a power of two). */
function bucketOf(shape: DigestShape, buckets: number): string {
  const key = keyText(shape);
  return (shape.bucketHash ?? 'md5') === 'md5'
    ? `(('x' || substr(md5(${key}), 1, 8))::bit(32)::int & ${buckets - 1})`
    : `(hashtextextended(${key}, 0) & ${buckets - 1})::int`;
}

/**
 * Per row: bucket `b`, key values as text `k0…`, and `h` = md5 of the row's text (all hashed columns, plan order).
 * `from` must yield the hashed columns under their target names with alias `t`.
 */
export function rowDigestsSql(shape: DigestShape, buckets: number, from: string, where = ''): string {
  const keys = shape.key.map((k, i) => `${col(k)}::text AS "k${i}"`);
  return `SELECT ${bucketOf(shape, buckets)} AS b, ${[...keys, `md5(${rowText(shape.columns.map((c) => c.name))}) AS h`].join(', ')} FROM ${from}${where}`;
}

/**
 * The rows of `rowDigestsSql` as one text value `lines` (null when there are none): a line per row, in scan order,
 * `b h key` with `key` the JSON array of the key values as text (`["7","a b"]`; `[]` without a key). PostgreSQL's JSON
 * escaping of text is JSON.stringify's (checked for every code point), so `key` is what JSON.stringify would write;
 * a JSON string holds no raw newline. One value to read instead of a row object per row (`readDigestLines`).
 */
export function rowDigestLinesSql(shape: DigestShape, buckets: number, from: string): string {
  const key = shape.key.length > 0 ? `array_to_json(ARRAY[${shape.key.map((_, i) => `x."k${i}"`).join(', ')}])::text` : `'[]'`;
  return `SELECT string_agg(x.b::text || ' ' || x.h || ' ' || ${key}, E'\\n') AS lines FROM (${rowDigestsSql(shape, buckets, from)}) AS x`;
}

/** Calls `row` for each line of `rowDigestLinesSql`'s text, in order. */
export function readDigestLines(lines: string | null, row: (bucket: number, rowHash: string, key: string) => void): void {
  if (lines === null) return;
  let at = 0;
  while (at < lines.length) {
    let end = lines.indexOf('\n', at);
    if (end < 0) end = lines.length;
    const s1 = lines.indexOf(' ', at);
    const s2 = lines.indexOf(' ', s1 + 1);
    row(Number(lines.slice(at, s1)), lines.slice(s1 + 1, s2), lines.slice(s2 + 1, end));
    at = end + 1;
  }
}

/** Per bucket: row count `n` and digest `d` = md5 of the rows' md5s sorted and concatenated (see `bucketDigest`). */
export function bucketDigestsSql(shape: DigestShape, buckets: number, from: string): string {
  // The rows come sorted by bucket from a sub-select that makes their hashes, so a parallel scan's workers make them
  // below the sort; as the aggregate's argument, the hash was made by the one process that aggregates. Same digests;
  // on a 2.84M-row table 7.6–9.6 s against 15.0–23.4 s (load average 16, back to back).
  return `SELECT b, count(*)::int AS n, md5(string_agg(h, '' ORDER BY h)) AS d FROM (SELECT s.b, s.h COLLATE "C" AS h FROM (${rowDigestsSql(shape, buckets, from)}) AS s ORDER BY 1) AS x GROUP BY b ORDER BY b`;
}

/** The same digest computed in Node from the rows' md5s (hex), as `bucketDigestsSql` computes it in the database. */
export function bucketDigest(rowHashes: string[]): string {
  const d = sortedBucketDigest();
  for (const h of [...rowHashes].sort()) d.add(h);
  return d.digest();
}

/** `bucketDigest` of row md5s given one at a time, already in ascending order (as text, byte-wise). */
export function sortedBucketDigest(): { add(rowHash: string): void; digest(): string } {
  const md5 = createHash('md5');
  return { add: (h) => void md5.update(h), digest: () => md5.digest('hex') };
}

/** One bucket of a table's digest. */
export interface BucketDigest {
  bucket: number;
  rows: number;
  digest: string;
}

/** The root of a table's bucket digests: sha256 over `bucket:rows:digest` lines in bucket order. */
export function tableRoot(buckets: number, digests: BucketDigest[]): string {
  const h = createHash('sha256').update(`buckets:${buckets}\n`);
  for (const d of [...digests].sort((a, b) => a.bucket - b.bucket)) h.update(`${d.bucket}:${d.rows}:${d.digest}\n`);
  return h.digest('hex');
}

export type StatKind = 'numeric' | 'text' | 'temporal' | 'other';

export function statKind(type: string): StatKind {
  const t = type.toLowerCase().trim();
  if (/^(smallint|integer|bigint|int[248]?|numeric|decimal|real|double precision|float[48]?|smallserial|serial|bigserial)\b/.test(t)) return 'numeric';
  if (/^(text|character varying|varchar|character|char|bpchar|citext)\b/.test(t)) return 'text';
  if (/^(date|timestamp|time)\b/.test(t)) return 'temporal';
  return 'other';
}

/** Column statistics: mergeable across batches and comparable between the captured source and the target. */
export interface ColumnStats {
  column: string;
  kind: StatKind;
  rows: number;
  nulls: number;
  min: string | null;
  max: string | null;
  /** numeric: sum of values; text: sum of character lengths. */
  sum: string | null;
  /**
   * Distinct-count sketch (KMV): the `SKETCH_SIZE` smallest distinct 64-bit hashes (`hashtextextended` of the value
   * as text, non-null values only) as decimal strings, ascending. Hashes, never values. Absent in captures made
   * before the sketch existed.
   */
  sketch?: string[];
}

/** Hashes kept per column by the distinct-count sketch. */
export const SKETCH_SIZE = 1024;

/**
 * The sketch of column `v` (an expression over alias `t`) as a scalar sub-select over the same rows. `below` (a hash,
 * decimal): only hashes up to it are grouped, which spares the database the grouping of every other value; the result
 * is the full sketch when it holds `SKETCH_SIZE` hashes, and may not be when it holds fewer (`sketchBounds`).
 */
function sketchSql(v: string, from: string, where: string, below?: string | null): string {
  const bounded = below ? ` AND hashtextextended(${v}::text, 0) <= ${BigInt(below).toString()}` : '';
  const cond = `${where ? `${where} AND` : ' WHERE'} ${v} IS NOT NULL${bounded}`;
  // GROUP BY then ORDER BY … LIMIT: a sort that stops after k groups, measured cheaper than SELECT DISTINCT (hash
  // aggregate of every value, then a top-N sort).
  return `ARRAY(SELECT x FROM (SELECT hashtextextended(${v}::text, 0) AS x FROM ${from}${cond} GROUP BY 1) AS q ORDER BY x LIMIT ${SKETCH_SIZE})::text[]`;
}

/**
 * Merge two sketches: the union of their hashes, the `SKETCH_SIZE` smallest kept (equal to the union's sketch). Both
 * are ascending (as the database and this function make them): one pass, comparing the decimal texts as numbers.
 */
export function mergeSketches(a: string[], b: string[]): string[] {
  if (!ascending(a) || !ascending(b)) return mergeSketches(sortedSketch(a), sortedSketch(b));
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (out.length < SKETCH_SIZE && (i < a.length || j < b.length)) {
    const c = i >= a.length ? 1 : j >= b.length ? -1 : compareDecimal(a[i]!, b[j]!);
    const next = c <= 0 ? a[i++]! : b[j++]!;
    if (c === 0) j++;
    if (out.length === 0 || out[out.length - 1] !== next) out.push(next);
  }
  return out;
}

/** Two integers' decimal texts (no leading zeros, `-` for negatives: int8out's) compared as numbers. */
function compareDecimal(x: string, y: string): number {
  const nx = x.charCodeAt(0) === 0x2d;
  const ny = y.charCodeAt(0) === 0x2d;
  if (nx !== ny) return nx ? -1 : 1;
  const magnitude = x.length !== y.length ? x.length - y.length : x < y ? -1 : x > y ? 1 : 0;
  return nx ? -magnitude : magnitude;
}

const ascending = (s: string[]): boolean => s.every((h, i) => i === 0 || compareDecimal(s[i - 1]!, h) < 0);

/** A sketch's hashes in ascending order, each once. */
const sortedSketch = (s: string[]): string[] =>
  [...new Set(s)]
    .map((h) => BigInt(h))
    .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))
    .map(String);

/**
 * Distinct-count estimate from a sketch: exact when it holds fewer than `SKETCH_SIZE` hashes, else (k−1)/u with u
 * the k-th smallest hash mapped to [0, 1). Equal sketches give equal estimates.
 */
export function distinctEstimate(sketch: string[]): number {
  if (sketch.length < SKETCH_SIZE) return sketch.length;
  const u = Number(BigInt(sketch[SKETCH_SIZE - 1]!) + 2n ** 63n) / 2 ** 64;
  return u > 0 ? Math.round((SKETCH_SIZE - 1) / u) : sketch.length;
}

/**
 * One row of aggregates for the columns of `from` (alias `t`): `n`, then per column `nN`, `loN`, `hiN`, `sN` and the
 * distinct-count sketch `kN`.
 */
export function columnStatsSql(columns: DigestColumn[], from: string, where = '', below: ReadonlyArray<string | null> = []): string {
  const parts = ['count(*)::bigint AS n'];
  columns.forEach((c, i) => {
    const kind = statKind(c.type);
    const v = col(c.name);
    parts.push(`count(*) - count(${v}) AS "n${i}"`);
    if (kind === 'numeric') parts.push(`min(${v})::text AS "lo${i}"`, `max(${v})::text AS "hi${i}"`, `sum(${v})::text AS "s${i}"`);
    else if (kind === 'temporal') parts.push(`min(${v})::text AS "lo${i}"`, `max(${v})::text AS "hi${i}"`);
    else if (kind === 'text') parts.push(`min(char_length(${v}))::text AS "lo${i}"`, `max(char_length(${v}))::text AS "hi${i}"`, `sum(char_length(${v}))::text AS "s${i}"`);
    parts.push(`${sketchSql(v, from, where, below[i])} AS "k${i}"`);
  });
  return `SELECT ${parts.join(', ')} FROM ${from}${where}`;
}

/**
 * Per column, a bound for its sketch on rows expected to be those `expected` describes: the largest hash of the
 * expected sketch when it is full (a column of `SKETCH_SIZE` or more distinct values), else null (no bound). Made below
 * that bound, a sketch that comes out full is the full sketch: every hash left out is above every hash kept. One that
 * comes out short (the rows lost values) is not, and must be made again without the bound (`sketchOf`).
 */
export function sketchBounds(columns: DigestColumn[], expected: ReadonlyArray<ColumnStats> | undefined): Array<string | null> {
  return columns.map((c) => {
    const sketch = expected?.find((e) => e.column === c.name)?.sketch;
    return sketch && sketch.length === SKETCH_SIZE ? sketch[SKETCH_SIZE - 1]! : null;
  });
}

/** One column's full sketch over the rows of `from` (alias `t`): `SELECT … AS k`. */
export function sketchOf(column: string, from: string): string {
  return `SELECT ${sketchSql(col(column), from, '')} AS k`;
}

/** Read the sketch of `sketchOf`. */
export const readSketchOf = (row: Record<string, unknown> | undefined): string[] => readSketch(row?.k);

/** Read the row of `columnStatsSql` into statistics. */
export function readColumnStats(columns: DigestColumn[], row: Record<string, unknown>): ColumnStats[] {
  const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  return columns.map((c, i) => ({
    column: c.name,
    kind: statKind(c.type),
    rows: Number(row.n ?? 0),
    nulls: Number(row[`n${i}`] ?? 0),
    min: str(row[`lo${i}`]),
    max: str(row[`hi${i}`]),
    sum: str(row[`s${i}`]),
    sketch: readSketch(row[`k${i}`]),
  }));
}

/** A `text[]` as the driver returns it: an array (pg) or its literal `{…}` (when not parsed). */
function readSketch(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string') return v.replace(/^\{|\}$/g, '').split(',').filter((x) => x !== '');
  return [];
}

const numericKinds = (k: StatKind): boolean => k === 'numeric' || k === 'text';

function pick(a: string | null, b: string | null, kind: StatKind, want: 'min' | 'max'): string | null {
  if (a === null) return b;
  if (b === null) return a;
  const less = numericKinds(kind) ? Number(a) < Number(b) : a < b;
  return want === 'min' ? (less ? a : b) : less ? b : a;
}

/** Merge the statistics of two disjoint sets of rows of the same columns. */
export function mergeColumnStats(a: ColumnStats[], b: ColumnStats[]): ColumnStats[] {
  return a.map((x, i) => {
    const y = b[i]!;
    const sum = x.sum === null ? y.sum : y.sum === null ? x.sum : String(Number(x.sum) + Number(y.sum));
    const sketch = x.sketch && y.sketch ? mergeSketches(x.sketch, y.sketch) : undefined;
    return { ...x, rows: x.rows + y.rows, nulls: x.nulls + y.nulls, min: pick(x.min, y.min, x.kind, 'min'), max: pick(x.max, y.max, x.kind, 'max'), sum, sketch };
  });
}

/** Equal within a relative tolerance (sums of floats and large decimals are merged in double precision). */
export function sameStat(expected: string | null, actual: string | null, kind: StatKind, tolerance = 1e-9): boolean {
  if (expected === null || actual === null) return expected === actual;
  if (!numericKinds(kind)) return expected === actual;
  const e = Number(expected);
  const a = Number(actual);
  if (Number.isNaN(e) || Number.isNaN(a)) return expected === actual;
  return Math.abs(e - a) <= tolerance * Math.max(1, Math.abs(e), Math.abs(a));
}
