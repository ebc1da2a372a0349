// Verification after execution: structure against the plan, row counts against the accounting, foreign keys, content
// and statistics against the source as captured, business rules and replayed queries.
import type { Catalog } from '../../core/catalog.js';
import type { QueryConfig, RuleConfig } from '../../core/config.js';
import type { CheckResult, Finding, VerificationReport } from '../../core/findings.js';
import type { Plan } from '../../core/plan.js';
import type { TableOutcome } from '../../core/run.js';
import type { TargetConnector } from '../../connectors/connector.js';
import { qualified, quoteIdent } from '../planning/identifiers.js';
import { checkBusinessRules } from './business-rules.js';
import { compareWithCapture, queuedKeysByTarget, type VerifyCapture } from './compare-capture.js';
import { inferRules } from './inferred-rules.js';
import { compareQueries, type QueryResultDigest } from './query-replay.js';
import { applyWaivers, type Waiver } from './waivers.js';

export interface VerifyInput {
  plan: Plan;
  /** The target schema the plan was made against: every FK in it must exist and resolve after the load. */
  plannedTarget: Catalog;
  outcomes: TableOutcome[];
  /**
   * The source as captured before execution. `null`: a capture was expected but none exists (a finding). Default
   * (absent): content is not compared with a capture.
   */
  capture?: VerifyCapture | null;
  /** Business rules (semantic perspective). Default none. */
  rules?: RuleConfig[];
  /**
   * The analysed source: rules are inferred from its columns' semantic types (formats, code shapes, plausible ranges)
   * and checked with a 95% threshold. Default absent: no inferred rules.
   */
  sourceCatalog?: Catalog | null;
  /**
   * Queries to replay (behavioural perspective), their results captured on the source, and the source's dialect
   * (`postgres`, `mysql`, `sqlite`: which parser rewrites them for the target). Default none.
   */
  queries?: { queries: QueryConfig[]; captured: QueryResultDigest[]; sourceDialect?: string };
  /** Rows the run queued (error queue entries: source table and source key), expected to be absent. Default none. */
  queued?: Array<{ table: string; key: unknown }>;
  /**
   * Rows written later by `sensei errors retry` under a stakeholder's corrected transformation (resolved queue
   * entries): the capture predates that correction, so they are not compared with it, and the check says how many.
   * Default none.
   */
  retried?: Array<{ table: string; key: unknown }>;
  /** Approved exceptions: matching findings are listed under `waived` instead of failing. Default none. */
  waivers?: Waiver[];
}

/** Collects every finding instead of stopping at the first; `passed` only when no check found anything. */
export async function verifyMigration(target: TargetConnector, input: VerifyInput): Promise<VerificationReport> {
  const actual = await target.catalog({ withCounts: true });
  const checks: CheckResult[] = [structural(input.plan, actual), accounting(input.outcomes), counts(input.outcomes, actual)];
  checks.push(await referential(target, input, actual));
  let matched: VerificationReport['matched'] = [];
  if (input.capture) {
    const compared = await compareWithCapture(target, input.capture.tables, input.capture.loadDetail, queuedKeysByTarget(input.plan, input.queued ?? []), queuedKeysByTarget(input.plan, input.retried ?? []));
    checks.push(...compared.checks);
    matched = compared.matched;
  } else if (input.capture === null) {
    checks.push(result('statistical', 'rows equal the source as captured (bucket hashes, bisected to keys)', 0, [
      { code: 'capture_missing', path: [], message: 'no capture of the source exists for this run, so its content cannot be compared; run the migration again to capture it' },
    ]));
  }
  if (input.rules && input.rules.length > 0) checks.push(await checkBusinessRules(target, input.rules));
  const inferred = inferRules(input.plan, input.sourceCatalog);
  if (inferred.length > 0) checks.push(await checkBusinessRules(target, inferred, 'business rules inferred from the analysis'));
  if (input.queries && input.queries.queries.length > 0) checks.push(await compareQueries(target, input.queries.queries, input.queries.captured, input.plan, input.queries.sourceDialect, input.sourceCatalog));
  return applyWaivers({ passed: checks.every((c) => c.passed), checks, ...(matched.length > 0 ? { matched } : {}) }, input.waivers ?? []);
}

function result(perspective: CheckResult['perspective'], check: string, checked: number, findings: Finding[]): CheckResult {
  return { perspective, check, passed: findings.length === 0, checked, findings };
}

function structural(plan: Plan, actual: Catalog): CheckResult {
  const findings: Finding[] = [];
  let checked = 0;
  for (const t of plan.tables) {
    const table = actual.tables.find((a) => a.name === t.target);
    checked++;
    if (!table) {
      findings.push({ code: 'missing_table', path: [t.target], message: `target table ${t.target} does not exist` });
      continue;
    }
    for (const m of t.columns) {
      checked++;
      const col = table.columns.find((c) => c.name === m.targetColumn);
      if (!col) {
        findings.push({ code: 'missing_column', path: [t.target, m.targetColumn], message: `column ${t.target}.${m.targetColumn} does not exist` });
      } else if (col.declaredType !== m.targetType) {
        findings.push({
          code: 'type_mismatch',
          path: [t.target, m.targetColumn],
          message: `column ${t.target}.${m.targetColumn} is ${col.declaredType}, the plan says ${m.targetType}`,
          expected: m.targetType,
          actual: col.declaredType,
        });
      }
    }
  }
  return result('structural', 'schema matches the approved plan', checked, findings);
}

function accounting(outcomes: TableOutcome[]): CheckResult {
  const findings: Finding[] = outcomes
    .filter((o) => o.rows_read !== o.rows_written + o.rows_errored)
    .map((o) => ({
      code: 'accounting_mismatch' as const,
      path: [o.source],
      message: `${o.source}: ${o.rows_read} read ≠ ${o.rows_written} written + ${o.rows_errored} queued`,
      read: o.rows_read,
      written: o.rows_written,
      errored: o.rows_errored,
    }));
  return result('statistical', 'rows read = rows written + rows queued', outcomes.length, findings);
}

function counts(outcomes: TableOutcome[], actual: Catalog): CheckResult {
  const findings: Finding[] = [];
  for (const o of outcomes) {
    const n = actual.tables.find((t) => t.name === o.target)?.rowCount ?? 0;
    if (n !== o.rows_written) {
      findings.push({
        code: 'row_count_mismatch',
        path: [o.target],
        message: `${o.target} holds ${n} rows, the run wrote ${o.rows_written}`,
        expected: o.rows_written,
        actual: n,
      });
    }
  }
  return result('statistical', 'target row counts equal rows written', outcomes.length, findings);
}

async function referential(target: TargetConnector, input: VerifyInput, actual: Catalog): Promise<CheckResult> {
  const findings: Finding[] = [];
  const loaded = new Set(input.plan.tables.map((t) => t.target));
  let checked = 0;
  for (const planned of input.plannedTarget.tables.filter((t) => loaded.has(t.name))) {
    const table = actual.tables.find((t) => t.name === planned.name);
    for (const fk of planned.foreignKeys) {
      checked++;
      const present = table?.foreignKeys.find((f) => sameColumns(f.columns, fk.columns) && f.refTable === fk.refTable);
      if (!present) {
        findings.push({ code: 'fk_missing', path: [planned.name, fk.name], constraint: fk.name, message: `foreign key ${planned.name}(${fk.columns.join(', ')}) → ${fk.refTable} is missing in the target` });
      }
      const notNull = fk.columns.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(' AND ');
      const join = fk.columns.map((c, i) => `p.${quoteIdent(fk.refColumns[i]!)} = c.${quoteIdent(c)}`).join(' AND ');
      const res = await target.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${qualified(target.schema, planned.name)} AS c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${qualified(target.schema, fk.refTable)} AS p WHERE ${join})`,
      );
      const orphans = Number(res.rows[0]?.n ?? 0);
      if (orphans > 0) {
        findings.push({
          code: 'fk_orphans',
          path: [planned.name, fk.name],
          constraint: fk.name,
          orphans,
          message: `${orphans} row(s) of ${planned.name} reference missing ${fk.refTable} rows`,
        });
      }
    }
  }
  return result('referential', 'every foreign key exists and resolves', checked, findings);
}

const sameColumns = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
