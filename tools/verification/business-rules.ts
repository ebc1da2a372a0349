// Semantic perspective: business rules from the configuration, predicates over target tables with a pass threshold.
import type { RuleConfig } from '../../core/config.js';
import type { CheckResult, Finding } from '../../core/findings.js';
import type { TargetConnector } from '../../connectors/connector.js';
import { checkExpression } from '../planning/expression-guard.js';
import { qualified } from '../planning/identifiers.js';

/**
 * Each rule's predicate passes the SQL allow-list (columns of its table only, unqualified or as `t.col`) before it
 * runs; a rule that is rejected, names an unknown table or fails to run is a `check_error` finding, never skipped.
 * A row passes when the predicate is true (NULL fails). An empty table passes every rule.
 */
export async function checkBusinessRules(target: TargetConnector, rules: RuleConfig[], check = 'business rules from the configuration'): Promise<CheckResult> {
  const findings: Finding[] = [];
  const catalog = await target.catalog();
  for (const rule of rules) {
    const path = ['rules', rule.name];
    const table = catalog.tables.find((t) => t.name === rule.table);
    if (!table) {
      findings.push({ code: 'check_error', path, message: `rule ${rule.name}: target table ${rule.table} does not exist; fix rules[].table in the configuration` });
      continue;
    }
    const guard = await checkExpression(rule.predicate, { allowedColumns: table.columns.map((c) => c.name), qualifiers: ['t'] });
    if (!guard.ok) {
      findings.push({ code: 'check_error', path, message: `rule ${rule.name} was not run: its predicate is refused by the SQL allow-list (${guard.reason})` });
      continue;
    }
    let n: number;
    let ok: number;
    try {
      const res = await target.query<{ n: string; ok: string }>(
        `SELECT count(*) AS n, count(*) FILTER (WHERE coalesce((${guard.expression}), false)) AS ok FROM ${qualified(target.schema, table.name)} AS t`,
      );
      n = Number(res.rows[0]?.n ?? 0);
      ok = Number(res.rows[0]?.ok ?? 0);
    } catch (e) {
      findings.push({ code: 'check_error', path, message: `rule ${rule.name} failed to run on ${rule.table}: ${(e as Error).message}` });
      continue;
    }
    const rate = n === 0 ? 1 : ok / n;
    if (rate < rule.threshold) {
      findings.push({
        code: 'rule_failed',
        path,
        rule: rule.name,
        passRate: rate,
        threshold: rule.threshold,
        failing: n - ok,
        message: `rule ${rule.name} on ${rule.table}: ${n - ok} of ${n} rows fail (${(rate * 100).toFixed(2)}% pass, ${(rule.threshold * 100).toFixed(2)}% required)`,
      });
    }
  }
  return { perspective: 'semantic', check, passed: findings.length === 0, checked: rules.length, findings };
}
