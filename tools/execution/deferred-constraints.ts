// Foreign keys are lifted during the load and put back after it, with orphans moved to the error queue first.
import type { Catalog, ForeignKey } from '../../core/catalog.js';
import type { ErrorQueueEntry } from '../../core/run.js';
import type { TargetConnector, TargetSession } from '../../connectors/connector.js';
import { qualified, quoteIdent } from '../planning/identifiers.js';

export interface LiftedForeignKey {
  table: string;
  fk: ForeignKey;
  /** Primary key of `table`: the key of every orphan sent to the error queue. */
  primaryKey: string[];
}

/**
 * Drops every FK of the loaded tables (and every FK pointing at them), so that load order, cycles and
 * self-references never reject a valid row. Returns what was dropped, to be restored by `restoreForeignKeys`.
 */
export async function liftForeignKeys(
  target: TargetConnector,
  catalog: Catalog,
  tables: readonly string[],
  /** Runs in the same transaction, e.g. to remember what was lifted. */
  record?: (s: TargetSession, lifted: LiftedForeignKey[]) => Promise<void>,
): Promise<LiftedForeignKey[]> {
  const loaded = new Set(tables);
  const lifted: LiftedForeignKey[] = [];
  for (const t of catalog.tables)
    for (const fk of t.foreignKeys)
      if (loaded.has(t.name) || loaded.has(fk.refTable)) lifted.push({ table: t.name, fk, primaryKey: t.primaryKey });
  if (lifted.length === 0 && !record) return lifted;
  await target.transaction(async (s) => {
    for (const { table, fk } of lifted) {
      await s.query(`ALTER TABLE ${qualified(target.schema, table)} DROP CONSTRAINT ${quoteIdent(fk.name)}`);
    }
    await record?.(s, lifted);
  });
  return lifted;
}

export interface OrphanRemoval {
  /** Target table the rows were removed from. */
  table: string;
  entries: Omit<ErrorQueueEntry, 'table'>[];
}

/**
 * Removes rows whose FK values reference no parent (MATCH SIMPLE: a NULL in the key skips the check) until none are
 * left — removing a parent can orphan its children — then re-creates every lifted FK. All in one transaction.
 */
export async function restoreForeignKeys(
  target: TargetConnector,
  lifted: readonly LiftedForeignKey[],
  /** Runs in the same transaction before it commits: queue the orphans, update the bookkeeping. */
  record?: (s: TargetSession, removals: OrphanRemoval[]) => Promise<void>,
): Promise<OrphanRemoval[]> {
  if (lifted.length === 0 && !record) return [];
  return target.transaction(async (s) => {
    const removed = new Map<string, OrphanRemoval>();
    for (let changed = true; changed; ) {
      changed = false;
      for (const { table, fk, primaryKey } of lifted) {
        const child = qualified(target.schema, table);
        const parent = qualified(target.schema, fk.refTable);
        const notNull = fk.columns.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(' AND ');
        const join = fk.columns.map((c, i) => `p.${quoteIdent(fk.refColumns[i]!)} = c.${quoteIdent(c)}`).join(' AND ');
        const res = await s.query<{ row: string }>(
          `DELETE FROM ${child} AS c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${parent} AS p WHERE ${join}) RETURNING row_to_json(c)::text AS row`,
        );
        if (res.rowCount === 0) continue;
        changed = true;
        const bucket = removed.get(table) ?? { table, entries: [] };
        removed.set(table, bucket);
        for (const r of res.rows) {
          const row = JSON.parse(r.row) as Record<string, unknown>;
          bucket.entries.push({
            column: fk.columns.join(','),
            rule: 'fk_orphan',
            stage: 'constraints',
            key: Object.fromEntries((primaryKey.length > 0 ? primaryKey : fk.columns).map((c) => [c, row[c]])),
            row,
            reason: `${table}.(${fk.columns.join(', ')}) references a row of ${fk.refTable} that does not exist (constraint ${fk.name}): load the parent row or fix the reference, then retry`,
          });
        }
      }
    }
    for (const l of lifted) await s.query(addConstraintSql(target.schema, l, false));
    await record?.(s, [...removed.values()]);
    return [...removed.values()];
  });
}

/**
 * After a failed load: put every lifted FK back as NOT VALID, which enforces it for new rows without deleting (and so
 * without losing) any row already loaded. `VALIDATE CONSTRAINT` later proves the rest.
 */
export async function reinstateForeignKeysUnvalidated(target: TargetConnector, lifted: readonly LiftedForeignKey[]): Promise<void> {
  if (lifted.length === 0) return;
  await target.transaction(async (s) => {
    for (const l of lifted) await s.query(addConstraintSql(target.schema, l, true));
  });
}

function addConstraintSql(schema: string, { table, fk }: LiftedForeignKey, notValid: boolean): string {
  const definition =
    fk.definition ??
    `FOREIGN KEY (${fk.columns.map(quoteIdent).join(', ')}) REFERENCES ${qualified(schema, fk.refTable)} (${fk.refColumns.map(quoteIdent).join(', ')})`;
  return `ALTER TABLE ${qualified(schema, table)} ADD CONSTRAINT ${quoteIdent(fk.name)} ${definition.replace(/\s+NOT VALID\s*$/i, '')}${notValid ? ' NOT VALID' : ''}`;
}
