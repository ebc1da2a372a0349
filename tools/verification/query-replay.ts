// Behavioural perspective: replay configured queries on the source at capture time and on the target after loading,
// and compare their results with type and (unless ordered) order normalisation. Only result hashes are kept.
import { createHash } from 'node:crypto';
import type { QueryConfig } from '../../core/config.js';
import type { CheckResult, Finding } from '../../core/findings.js';
import type { Plan } from '../../core/plan.js';
import type { SourceConnector, TargetConnector } from '../../connectors/connector.js';
import { checkSelectQuery } from '../planning/expression-guard.js';
import { quoteIdent } from '../planning/identifiers.js';

/** A query's result as captured: row count and sha256 of its normalised rows; never a value. */
export interface QueryResultDigest {
  name: string;
  rows: number;
  sha256: string;
  /** Why the source could not answer, when it could not. */
  error?: string;
}

/**
 * The source query with table and column names mapped to the target's, token by token (string literals are left
 * alone; `"x"` and `` `x` `` quoted names are recognised). Names that map to different targets in different tables are
 * left as written. Dialect-specific functions are not translated: give `target:` for such a query.
 */
export function rewriteForTarget(sql: string, plan: Plan): string {
  const names = new Map<string, string | null>();
  const add = (from: string, to: string) => {
    const k = from.toLowerCase();
    const seen = names.get(k);
    names.set(k, seen === undefined || seen === to ? to : null);
  };
  for (const t of plan.tables) {
    add(t.source, t.target);
    for (const c of t.columns) add(c.sourceColumn, c.targetColumn);
  }
  return sql.replace(/'(?:[^']|'')*'|"((?:[^"]|"")*)"|`([^`]*)`|\b([A-Za-z_][A-Za-z0-9_$]*)\b/g, (m, dq?: string, bq?: string, bare?: string) => {
    if (m.startsWith("'")) return m;
    const name = dq !== undefined ? dq.replace(/""/g, '"') : (bq ?? bare)!;
    const to = names.get(name.toLowerCase());
    if (to) return quoteIdent(to);
    return bq !== undefined ? quoteIdent(bq) : m;
  });
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

/** Replay each query on the target (rewritten through the plan unless `target:` is given) and compare with the capture. */
export async function compareQueries(target: TargetConnector, queries: QueryConfig[], captured: QueryResultDigest[], plan: Plan): Promise<CheckResult> {
  const findings: Finding[] = [];
  const tables = plan.tables.map((t) => t.target);
  for (const q of queries) {
    const path = ['queries', q.name];
    const expected = captured.find((c) => c.name === q.name);
    if (!expected || expected.error) {
      findings.push({ code: 'check_error', path, message: `query ${q.name} has no captured source result${expected?.error ? ` (${expected.error})` : ''}; fix it in queries[] and run again` });
      continue;
    }
    const sql = q.target ?? rewriteForTarget(q.source.trim().replace(/;\s*$/, ''), plan);
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
        const res = await s.query<Record<string, unknown>>(sql);
        return res.rows.map((r) => Object.values(r));
      });
      actual = digestRows(q.name, rows, q.ordered);
    } catch (e) {
      findings.push({ code: 'check_error', path, message: `query ${q.name} failed on the target: ${(e as Error).message}` });
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
