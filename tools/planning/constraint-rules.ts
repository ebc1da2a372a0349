// Validation rules from the target's keys: `unique` (primary key, unique constraints) and `fk` (foreign keys).
import type { TableDef } from '../../core/catalog.js';
import type { ColumnMapping, ValidationRule } from '../../core/plan.js';

const PRIMARY_KEY = 'the primary key';

/**
 * The rules a target column's keys put on every mapping into it. A key spans rows, so no predicate over one staged
 * row can decide it: the predicate is `TRUE` (the row-level stage passes every row) and the target enforces the key,
 * where execution isolates the offending rows and queues them — a duplicate key at insert (queued with rule
 * `unique`, naming the constraint), a missing parent after the load, when the lifted foreign keys are restored
 * (queued with rule `fk_orphan`). The rules make that visible in the plan, per column, before anything runs.
 */
export function constraintRules(sourceColumn: string, target: TableDef, targetColumn: string): ValidationRule[] {
  const where = `${sourceColumn} → ${target.name}.${targetColumn}`;
  const rules: ValidationRule[] = [];
  const keys: Array<{ what: string; columns: readonly string[] }> = [];
  if (target.primaryKey.length > 0) keys.push({ what: PRIMARY_KEY, columns: target.primaryKey });
  for (const u of target.uniques) {
    if (!sameColumns(u.columns, target.primaryKey)) keys.push({ what: `unique constraint "${u.name}"`, columns: u.columns });
  }
  for (const k of keys.filter((x) => x.columns.includes(targetColumn))) {
    rules.push({
      rule: 'unique',
      predicate: 'true',
      message: `${where} is part of ${k.what} (${k.columns.join(', ')}) of ${target.name}: a row whose key is already loaded is queued (rule unique) when the key is put back after the load; deduplicate the source rows or fix the key, then retry`,
    });
  }
  for (const fk of target.foreignKeys.filter((f) => f.columns.includes(targetColumn))) {
    rules.push({
      rule: 'fk',
      predicate: 'true',
      message: `${where} is part of foreign key "${fk.name}" (${fk.columns.join(', ')}) → ${fk.refTable} (${fk.refColumns.join(', ')}): a row whose parent is missing after the load is queued (rule fk_orphan); load the parent row or fix the reference, then retry`,
    });
  }
  return rules;
}

/**
 * The source columns whose `unique` rule belongs to the violated constraint (as PostgreSQL names it in the error);
 * a constraint no rule names is the primary key's (its name is not in the catalog).
 */
export function uniqueKeyColumns(columns: readonly ColumnMapping[], constraint: string): string[] {
  const holding = (test: (message: string) => boolean): string[] =>
    columns.filter((c) => c.validationRules.some((r) => r.rule === 'unique' && test(r.message))).map((c) => c.sourceColumn);
  const named = constraint === '' ? [] : holding((m) => m.includes(`unique constraint "${constraint}"`));
  return named.length > 0 ? named : holding((m) => m.includes(PRIMARY_KEY));
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c) => b.includes(c));
}
