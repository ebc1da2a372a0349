// Behavioural perspective: replay configured queries on the source at capture time and on the target after loading,
// and compare their results with type and (unless ordered) order normalisation. Only result hashes are kept.
import { createHash } from 'node:crypto';
import type { Catalog } from '../../core/catalog.js';
import type { QueryConfig } from '../../core/config.js';
import type { CheckResult, Finding } from '../../core/findings.js';
import type { Plan } from '../../core/plan.js';
import type { SourceConnector, TargetConnector } from '../../connectors/connector.js';
import { checkSelectQuery } from '../planning/expression-guard.js';
import { qualified, quoteIdent } from '../planning/identifiers.js';
import { probeVerdict, type CollationUse } from './collation-fold.js';
import { rewriteQuery, sourceDialectOf, type QueryRewrite } from './query-rewrite.js';

/** A query's result as captured: row count and sha256 of its normalised rows; never a value. */
export interface QueryResultDigest {
  name: string;
  rows: number;
  sha256: string;
  /** Why the source could not answer, when it could not. */
  error?: string;
}

/** A value's comparable text: numbers canonical, timestamps without `T`/zero zone/zero fraction, bytes as hex. */
export function normaliseValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number' || typeof v === 'bigint') return canonicalNumber(String(v));
  if (v instanceof Date) return normaliseText(v.toISOString());
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex')}`;
  return normaliseText(String(v));
}

function canonicalNumber(s: string): string {
  const n = Number(s);
  if (!Number.isFinite(n)) return s;
  return Number.isInteger(n) && Math.abs(n) < 2 ** 53 ? String(n) : String(Number.parseFloat(n.toPrecision(12)));
}

function normaliseText(s: string): string {
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(s)) return canonicalNumber(s);
  const ts = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]00(:?00)?)?$/.exec(s);
  if (ts) {
    const frac = ts[3] && Number(ts[3]) !== 0 ? ts[3].replace(/0+$/, '') : '';
    return `${ts[1]} ${ts[2]}${frac}`;
  }
  return s.trimEnd();
}

export function digestRows(name: string, rows: unknown[][], ordered: boolean): QueryResultDigest {
  const lines = rows.map((r) => r.map(normaliseValue).join('\t'));
  if (!ordered) lines.sort();
  const h = createHash('sha256');
  for (const l of lines) h.update(`${l}\n`);
  return { name, rows: rows.length, sha256: h.digest('hex') };
}

/** Source queries must be one SELECT (or WITH … SELECT); they run read-only besides. */
function looksLikeOneSelect(sql: string): boolean {
  const body = sql.trim().replace(/;\s*$/, '');
  return /^(select|with)\b/i.test(body) && !body.replace(/'(?:[^']|'')*'/g, "''").includes(';');
}

/** Run each query on the source (at capture time). A query the source cannot answer is recorded with its error. */
export async function captureQueries(source: SourceConnector, queries: QueryConfig[]): Promise<QueryResultDigest[]> {
  const out: QueryResultDigest[] = [];
  for (const q of queries) {
    if (!source.replayQuery) {
      out.push({ name: q.name, rows: 0, sha256: '', error: `the ${source.dialect} source cannot replay queries` });
      continue;
    }
    if (!looksLikeOneSelect(q.source)) {
      out.push({ name: q.name, rows: 0, sha256: '', error: 'the source query is not a single SELECT' });
      continue;
    }
    try {
      const res = await source.replayQuery(q.source);
      out.push(digestRows(q.name, res.rows, q.ordered));
    } catch (e) {
      out.push({ name: q.name, rows: 0, sha256: '', error: `the source could not run it: ${(e as Error).message}` });
    }
  }
  return out;
}

/**
 * Replay each query on the target and compare with the capture. The target query is `target:` when given, else the
 * source query rewritten through the plan by the parser of `sourceDialect` (`SourceConnector.dialect`); a query the
 * rewrite cannot handle is a `query_rewrite_failed` finding that says to give `target:`. With `sourceCatalog`, comparisons
 * over case-insensitive source columns are folded, and a query whose result depends on such a collation beyond that
 * (by its form, or by the target's data: see collation-fold.ts) is a `query_collation_differs` finding instead of a run.
 */
export async function compareQueries(
  target: TargetConnector,
  queries: QueryConfig[],
  captured: QueryResultDigest[],
  plan: Plan,
  sourceDialect: string | undefined,
  sourceCatalog?: Catalog | null,
): Promise<CheckResult> {
  const findings: Finding[] = [];
  const tables = plan.tables.map((t) => t.target);
  // One probe per target column for all the queries (each scans the table).
  const probes = new Map<string, { nonAscii: boolean; variants: boolean }>();
  for (const q of queries) {
    const path = ['queries', q.name];
    const expected = captured.find((c) => c.name === q.name);
    if (!expected || expected.error) {
      findings.push({ code: 'check_error', path, message: `query ${q.name} has no captured source result${expected?.error ? ` (${expected.error})` : ''}; fix it in queries[] and run again` });
      continue;
    }
    let sql = q.target;
    let collationUses: CollationUse[] = [];
    if (sql === undefined) {
      const dialect = sourceDialectOf(sourceDialect);
      const rewrite: QueryRewrite = dialect
        ? await rewriteQuery(q.source.trim().replace(/;\s*$/, ''), dialect, plan, { sourceCatalog, ordered: q.ordered })
        : { ok: false, reason: `no parser for a ${sourceDialect ?? 'unknown'} source` };
      if (!rewrite.ok) {
        const todo = 'give queries[].target (the same question in PostgreSQL over the target tables)';
        if (rewrite.collation) {
          findings.push({ code: 'query_collation_differs', path, query: q.name, ...rewrite.collation, message: `query ${q.name} depends on a case-insensitive collation the target does not have: ${rewrite.reason}; ${todo}, or waive the finding` });
        } else {
          findings.push({ code: 'query_rewrite_failed', path, query: q.name, message: `query ${q.name} cannot be rewritten for the target schema: ${rewrite.reason}; ${todo}` });
        }
        continue;
      }
      sql = rewrite.sql;
      collationUses = rewrite.collationUses;
    }
    const guard = await checkSelectQuery(sql, tables);
    if (!guard.ok) {
      findings.push({ code: 'check_error', path, message: `query ${q.name} was not run on the target: the SQL allow-list refuses it (${guard.reason})${q.target ? '' : '; give queries[].target for the target schema'}` });
      continue;
    }
    let actual: QueryResultDigest;
    try {
      const rows = await target.transaction(async (s) => {
        await s.query('SET TRANSACTION READ ONLY');
        await s.query(`SET LOCAL TimeZone = 'UTC'`);
        await s.query(`SET LOCAL search_path TO ${quoteIdent(target.schema)}`);
        for (const u of collationUses) {
          const key = JSON.stringify([u.targetTable, u.targetColumn, u.padSpace]);
          const probe = probes.get(key) ?? (await probeCollation(s, target.schema, u));
          probes.set(key, probe);
          const why = probeVerdict(u, probe);
          if (why) return { collation: u, why };
        }
        // Each row as one record: columns of the same name (a.id, b.id) stay apart, in order.
        const res = await s.query<{ q: unknown }>(`SELECT q FROM (${sql}) AS q`);
        return res.rows.map((r) => parseRecord(String(r.q)));
      });
      if (!Array.isArray(rows)) {
        const { collation: u, why } = rows;
        const what = u.use === 'group' ? 'groups or makes distinct' : 'compares';
        findings.push({
          code: 'query_collation_differs',
          path,
          query: q.name,
          table: u.table,
          column: u.column,
          message: `query ${q.name} ${what} ${u.table}.${u.column}, case-insensitive on the source, and the target column ${u.targetTable}.${u.targetColumn} ${why}; give queries[].target (the same question in PostgreSQL), or waive the finding`,
        });
        continue;
      }
      actual = digestRows(q.name, rows, q.ordered);
    } catch (e) {
      findings.push({ code: 'check_error', path, message: `query ${q.name} failed on the target: ${(e as Error).message}${q.target ? '' : '; the rewrite renames tables and columns and translates only the source-dialect functions the README lists, so give queries[].target for anything else'}` });
      continue;
    }
    if (actual.sha256 !== expected.sha256) {
      findings.push({
        code: 'query_mismatch',
        path,
        query: q.name,
        expectedRows: expected.rows,
        actualRows: actual.rows,
        message: `query ${q.name}: the target answers differently than the source did at capture time (${actual.rows} row(s) vs ${expected.rows})`,
      });
    }
  }
  return { perspective: 'behavioral', check: 'replayed queries give the source results', passed: findings.length === 0, checked: queries.length, findings };
}

/**
 * What a case-insensitive use needs to know of the target column's data: any non-ASCII text, and any two values that
 * fold together (lower case; trailing spaces too under PAD SPACE). Counts and flags only, never a value.
 */
async function probeCollation(s: { query<R>(sql: string): Promise<{ rows: R[] }> }, schema: string, u: CollationUse): Promise<{ nonAscii: boolean; variants: boolean }> {
  const c = quoteIdent(u.targetColumn);
  const folded = u.padSpace ? `rtrim(lower(${c}::text), ' ')` : `lower(${c}::text)`;
  // The session returns every value as PostgreSQL prints it: booleans are 't' or 'f'.
  const res = await s.query<{ non_ascii: string; variants: string }>(
    `SELECT coalesce(bool_or(${c}::text ~ '[^[:ascii:]]'), false) AS non_ascii, count(DISTINCT ${c}) <> count(DISTINCT ${folded}) AS variants FROM ${qualified(schema, u.targetTable)}`,
  );
  return { nonAscii: res.rows[0]!.non_ascii === 't', variants: res.rows[0]!.variants === 't' };
}

/**
 * PostgreSQL's text form of a record, `(1,,"a ""b""",)`, as field texts: an empty unquoted field is NULL, a quoted one
 * is unescaped (`""` and `\\x`). The fields are the texts PostgreSQL prints for each column.
 */
export function parseRecord(text: string): Array<string | null> {
  if (!text.startsWith('(') || !text.endsWith(')')) throw new Error('not a record');
  const out: Array<string | null> = [];
  let i = 1;
  const end = text.length - 1;
  if (end === 1) return [null];
  for (;;) {
    let value: string | null;
    if (text[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const ch = text[i]!;
        if (ch === '\\') {
          v += text[i + 1];
          i += 2;
        } else if (ch === '"') {
          if (text[i + 1] === '"') {
            v += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        } else {
          v += ch;
          i++;
        }
        if (i > end) throw new Error('unterminated quoted field in a record');
      }
      value = v;
    } else {
      const comma = text.indexOf(',', i);
      const stop = comma === -1 || comma > end ? end : comma;
      value = stop === i ? null : text.slice(i, stop);
      i = stop;
    }
    out.push(value);
    if (i >= end) return out;
    i++; // the comma
  }
}
