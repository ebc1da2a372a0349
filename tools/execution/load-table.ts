// Load one table: read batch → stage (COPY) → validate set-wise → INSERT … SELECT, isolating rows that fail.
import { createHash } from 'node:crypto';
import type { Batch } from '../../core/batch.js';
import type { TableDef } from '../../core/catalog.js';
import type { TableMapping } from '../../core/plan.js';
import type { ErrorQueueEntry, ErrorSink, TableOutcome, TableProgress } from '../../core/run.js';
import type { SourceConnector, TargetConnector, TargetSession } from '../../connectors/connector.js';
import { qualified, quoteIdent } from '../planning/identifiers.js';
import { copyLine, hasNulByte, stagedText } from './copy-text.js';

export interface LoadTableDeps {
  runId: string;
  source: SourceConnector;
  target: TargetConnector;
  errors: ErrorSink;
  /** Rows per batch. Default 10,000. */
  batchSize?: number;
  onProgress?: (p: TableProgress) => void;
}

const STAGE = 'pg_temp."_sensei_stage"';

/**
 * Every row read ends either written or in the error queue; the returned counts prove it
 * (rows_read = rows_written + rows_errored). The source hash covers every row read, in read order.
 */
export async function loadTable(deps: LoadTableDeps, mapping: TableMapping, sourceTable: TableDef): Promise<TableOutcome> {
  const started = Date.now();
  const target = deps.target;
  const rowsTotal = await deps.source.countRows(sourceTable);
  const hash = createHash('sha256');
  const progress: TableProgress = { table: mapping.source, rowsRead: 0, rowsTotal, rowsWritten: 0, rowsErrored: 0, done: false };
  const targetCols = mapping.columns.map((c) => quoteIdent(c.targetColumn));
  const exprs = mapping.columns.map((c) => c.transformation);
  const rules = mapping.columns.flatMap((c) => c.validationRules.map((r) => ({ ...r, column: c.sourceColumn })));
  const targetTable = qualified(target.schema, mapping.target);
  deps.onProgress?.({ ...progress });

  for await (const batch of deps.source.readBatches(sourceTable, { batchSize: deps.batchSize ?? 10_000 })) {
    const names = batch.columns.map((c) => c.name);
    const keyIdx = sourceTable.primaryKey.map((k) => names.indexOf(k));
    const rowOf = (r: number): Record<string, unknown> =>
      Object.fromEntries(names.map((n, c) => [n, stagedText(batch.values[c]![r] ?? null)]));
    const keyOf = (r: number): Record<string, unknown> =>
      keyIdx.length > 0 && keyIdx.every((i) => i >= 0)
        ? Object.fromEntries(keyIdx.map((i) => [names[i]!, stagedText(batch.values[i]![r] ?? null)]))
        : { _row: batch.offset + r + 1 };
    const entry = (r: number, e: Omit<ErrorQueueEntry, 'table' | 'key' | 'row'>): ErrorQueueEntry => ({
      table: mapping.source,
      key: keyOf(r),
      row: rowOf(r),
      ...e,
    });

    const rejected: ErrorQueueEntry[] = [];
    const lines: string[] = [];
    // Values the source could not normalise (zero dates, invalid byte sequences): the row never reaches the target.
    const readRejects = new Map<number, { column: string; rule: string; reason: string }>();
    for (const x of batch.rejects ?? []) {
      const seen = readRejects.get(x.row);
      readRejects.set(x.row, seen ? { ...seen, reason: `${seen.reason}; ${x.reason}`, rule: seen.rule === x.rule ? seen.rule : `${seen.rule},${x.rule}` } : x);
    }
    for (let r = 0; r < batch.rowCount; r++) {
      const values = batch.values.map((col) => col[r] ?? null);
      const line = copyLine(values);
      hash.update(line);
      hash.update('\n');
      const bad = readRejects.get(r);
      if (bad) {
        rejected.push(entry(r, { column: bad.column, rule: bad.rule, stage: 'read', reason: bad.reason }));
        continue;
      }
      const nulCol = values.findIndex(hasNulByte);
      if (nulCol >= 0) {
        rejected.push(
          entry(r, {
            column: names[nulCol]!,
            rule: 'nul_byte',
            stage: 'stage',
            reason: `column ${names[nulCol]} holds a NUL byte (U+0000), which PostgreSQL text cannot store: clean the value at the source or map the column to bytea`,
          }),
        );
        continue;
      }
      lines.push(`${r}\t${line}`);
    }

    const written = await target.transaction(async (s) => {
      await s.query(
        `CREATE TEMP TABLE "_sensei_stage" ("_sensei_ord" integer, ${names.map((n) => `${quoteIdent(n)} text`).join(', ')}) ON COMMIT DROP`,
      );
      if (lines.length > 0) await s.copyFrom(STAGE, ['_sensei_ord', ...names], `${lines.join('\n')}\n`);
      if (rules.length > 0) {
        const flags = rules.map((rule, i) => `coalesce(${rule.predicate}, false) AS "r${i}"`).join(', ');
        const failed = await s.query<Record<string, string>>(
          `DELETE FROM ${STAGE} AS src WHERE NOT (${rules.map((r) => `coalesce(${r.predicate}, false)`).join(' AND ')}) RETURNING "_sensei_ord", ${flags}`,
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
      return insertIsolating(s, { targetTable, targetCols, exprs, batch, mapping, rejected, entry });
    });
    if (rejected.length > 0) await deps.errors.add(deps.runId, rejected);
    progress.rowsRead += batch.rowCount;
    progress.rowsWritten += written;
    progress.rowsErrored += rejected.length;
    if (progress.rowsRead !== progress.rowsWritten + progress.rowsErrored) {
      // Not recoverable here: the transaction is committed. Report it loudly instead of continuing.
      throw new Error(
        `accounting broke in ${mapping.source}: read ${progress.rowsRead}, written ${progress.rowsWritten}, errored ${progress.rowsErrored}`,
      );
    }
    deps.onProgress?.({ ...progress });
  }
  progress.done = true;
  deps.onProgress?.({ ...progress });
  return {
    source: mapping.source,
    target: mapping.target,
    rows_read: progress.rowsRead,
    rows_written: progress.rowsWritten,
    rows_errored: progress.rowsErrored,
    source_hash: hash.digest('hex'),
    seconds: (Date.now() - started) / 1000,
  };
}

interface InsertContext {
  targetTable: string;
  targetCols: string[];
  exprs: string[];
  batch: Batch;
  mapping: TableMapping;
  rejected: ErrorQueueEntry[];
  entry: (r: number, e: Omit<ErrorQueueEntry, 'table' | 'key' | 'row'>) => ErrorQueueEntry;
}

/**
 * INSERT … SELECT the staged rows; when the statement fails (a cast the rules could not foresee, a unique or check
 * violation), split the range in halves under savepoints until the failing rows stand alone and go to the queue.
 */
async function insertIsolating(s: TargetSession, ctx: InsertContext): Promise<number> {
  const insert = async (lo: number, hi: number): Promise<number> => {
    const res = await s.query(
      `INSERT INTO ${ctx.targetTable} (${ctx.targetCols.join(', ')}) SELECT ${ctx.exprs.join(', ')} FROM ${STAGE} AS src WHERE "_sensei_ord" >= ${lo} AND "_sensei_ord" < ${hi} ORDER BY "_sensei_ord"`,
    );
    return res.rowCount;
  };
  const attempt = async (lo: number, hi: number): Promise<number> => {
    await s.query('SAVEPOINT "sensei_split"');
    try {
      const n = await insert(lo, hi);
      await s.query('RELEASE SAVEPOINT "sensei_split"');
      return n;
    } catch (e) {
      await s.query('ROLLBACK TO SAVEPOINT "sensei_split"');
      await s.query('RELEASE SAVEPOINT "sensei_split"');
      const remaining = await s.query<{ n: string }>(`SELECT count(*) AS n FROM ${STAGE} WHERE "_sensei_ord" >= ${lo} AND "_sensei_ord" < ${hi}`);
      if (Number(remaining.rows[0]?.n ?? 0) === 0) return 0;
      if (hi - lo === 1) {
        ctx.rejected.push(ctx.entry(lo, { ...(await diagnose(s, ctx, lo, e)), stage: 'write' }));
        return 0;
      }
      const mid = lo + Math.floor((hi - lo) / 2);
      return (await attempt(lo, mid)) + (await attempt(mid, hi));
    }
  };
  return attempt(0, ctx.batch.rowCount);
}

/** Which column of a single failing row is at fault: evaluate each transformation alone under a savepoint. */
async function diagnose(s: TargetSession, ctx: InsertContext, ord: number, error: unknown): Promise<{ column: string | null; rule: string; reason: string }> {
  const message = error instanceof Error ? error.message : String(error);
  for (const [i, expr] of ctx.exprs.entries()) {
    await s.query('SAVEPOINT "sensei_probe"');
    try {
      await s.query(`SELECT ${expr} FROM ${STAGE} AS src WHERE "_sensei_ord" = ${ord}`);
      await s.query('RELEASE SAVEPOINT "sensei_probe"');
    } catch (probe) {
      await s.query('ROLLBACK TO SAVEPOINT "sensei_probe"');
      await s.query('RELEASE SAVEPOINT "sensei_probe"');
      const m = ctx.mapping.columns[i]!;
      return {
        column: m.sourceColumn,
        rule: 'cast_failed',
        reason: `${m.sourceColumn} → ${m.targetTable}.${m.targetColumn} (${m.targetType}): ${probe instanceof Error ? probe.message : String(probe)}; fix the source value or change the mapping's transformation`,
      };
    }
  }
  return {
    column: null,
    rule: 'write_rejected',
    reason: `${ctx.mapping.target} rejected the row: ${message}; fix the source row or the target constraint, then retry`,
  };
}
