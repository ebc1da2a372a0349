// Foreign keys, primary keys and unique constraints are lifted during the load and put back after it: keys first (their
// later duplicates moved to the error queue), then foreign keys (orphans moved to the error queue first). Keys built
// once over the loaded rows cost PostgreSQL far less than an index maintained row by row (measured: COPY of 2.8M rows
// into a table with its primary key 11.9 s; without it 4.6 s, then ADD PRIMARY KEY 3.0 s).
import type { Catalog, ForeignKey } from '../../core/catalog.js';
import type { ErrorQueueEntry } from '../../core/run.js';
import type { TargetConnector, TargetSession } from '../../connectors/connector.js';
import { qualified, quoteIdent } from '../planning/identifiers.js';
import { underSavepoint } from './savepoint.js';
import { settleAll, slots } from './slots.js';

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

/** A primary key or unique constraint of a loaded table, dropped for the load. */
export interface LiftedKey {
  table: string;
  name: string;
  /** `pg_get_constraintdef`: `PRIMARY KEY (a, b)` / `UNIQUE (c)` with its options. */
  definition: string;
  /** The constraint's columns. */
  columns: string[];
  /** Primary key of `table` (the key of every duplicate sent to the error queue); the constraint's columns without one. */
  primaryKey: string[];
}

/**
 * Drops the primary keys and unique constraints of `tables` (empty: the load refuses tables holding rows) in
 * session `s`, after their foreign keys and those pointing at them were lifted. Unique indexes that are not
 * constraints stay, and so does a key that cannot be dropped (another schema's foreign key depends on it). Returns
 * what was dropped, to be put back by `restoreForeignKeys`.
 */
export async function liftKeys(s: TargetSession, schema: string, tables: readonly string[]): Promise<LiftedKey[]> {
  const res = await s.query<{ table: string; name: string; definition: string; kind: string; columns: string[] | string }>(
    `SELECT c.relname AS table, k.conname AS name, pg_get_constraintdef(k.oid) AS definition, k.contype AS kind,
            ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS u(n, i) JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i) AS columns
       FROM pg_constraint AS k JOIN pg_class AS c ON c.oid = k.conrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND k.contype IN ('p', 'u')
      ORDER BY c.relname, k.contype, k.conname`,
    [schema, [...tables]],
  );
  const rows = res.rows.map((r) => ({ ...r, columns: Array.isArray(r.columns) ? r.columns : String(r.columns).replace(/^\{|\}$/g, '').split(',').filter((c) => c !== '') }));
  const keys = rows.map((r) => ({
    table: r.table,
    name: r.name,
    definition: r.definition,
    columns: r.columns,
    primaryKey: rows.find((p) => p.table === r.table && p.kind === 'p')?.columns ?? r.columns,
  }));
  const lifted: LiftedKey[] = [];
  for (const k of keys) {
    // A key something outside the load depends on (a foreign key of another schema) stays in place.
    const dropped = await underSavepoint(s, 'sensei_lift', () => s.query(`ALTER TABLE ${qualified(schema, k.table)} DROP CONSTRAINT ${quoteIdent(k.name)}`));
    if (dropped.ok) lifted.push(k);
  }
  return lifted;
}

/** Drops lifted keys that an earlier, failed attempt put back, so a resumed load runs without them again. */
export async function dropKeysAgain(s: TargetSession, schema: string, keys: readonly LiftedKey[]): Promise<void> {
  await dropConstraints(s, schema, keys);
}

/** Drops lifted FKs that were put back (NOT VALID, by a failed attempt or a parallel validation), if they are there. */
export async function dropForeignKeysAgain(s: TargetSession, schema: string, fks: readonly LiftedForeignKey[]): Promise<void> {
  await dropConstraints(s, schema, fks.map(({ table, fk }) => ({ table, name: fk.name })));
}

async function dropConstraints(s: TargetSession, schema: string, constraints: ReadonlyArray<{ table: string; name: string }>): Promise<void> {
  for (const c of constraints) await s.query(`ALTER TABLE ${qualified(schema, c.table)} DROP CONSTRAINT IF EXISTS ${quoteIdent(c.name)}`);
}

/**
 * The rows a `DELETE … RETURNING row_to_json(c)::text AS row` removed, as error queue entries of the `constraints`
 * stage, each described by `entry` from its row.
 */
function removedEntries(
  rows: ReadonlyArray<{ row: string }>,
  entry: (row: Record<string, unknown>) => Pick<ErrorQueueEntry, 'column' | 'rule' | 'key' | 'reason'>,
): OrphanRemoval['entries'] {
  return rows.map((r) => {
    const row = JSON.parse(r.row) as Record<string, unknown>;
    return { ...entry(row), stage: 'constraints', row };
  });
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
  /** Keys lifted for the load: put back first (their duplicates removed), as the foreign keys need them. */
  keys: readonly LiftedKey[] = [],
): Promise<OrphanRemoval[]> {
  if (lifted.length === 0 && keys.length === 0 && !record) return [];
  return target.transaction(async (s) => {
    // Those a parallel validation (`validateForeignKeys`) left NOT VALID come off again first.
    await dropForeignKeysAgain(s, target.schema, lifted);
    const removed = new Map<string, OrphanRemoval>();
    const removal = (table: string): OrphanRemoval => {
      const bucket = removed.get(table) ?? { table, entries: [] };
      removed.set(table, bucket);
      return bucket;
    };
    for (const r of await restoreKeys(s, target.schema, keys)) removal(r.table).entries.push(...r.entries);
    // The FKs are first put back as they are: adding one validates every row in one scan, and when no row is an orphan
    // (the common case) that is all. When one is refused, all of them are taken off again (removing an orphan parent
    // must not meet its children's FK), the orphans searched until none are left (removing a parent can orphan its
    // children) and the FKs added after.
    const added = lifted.length === 0 ? { ok: true as const, value: undefined } : await underSavepoint(s, 'sensei_fks', async () => {
      for (const l of lifted) await s.query(addConstraintSql(target.schema, l, false));
    });
    if (!added.ok && (added.error as { code?: unknown }).code !== '23503') throw added.error;
    for (let changed = !added.ok; changed; ) {
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
        removal(table).entries.push(
          ...removedEntries(res.rows, (row) => ({
            column: fk.columns.join(','),
            rule: 'fk_orphan',
            key: Object.fromEntries((primaryKey.length > 0 ? primaryKey : fk.columns).map((c) => [c, row[c]])),
            reason: `${table}.(${fk.columns.join(', ')}) references a row of ${fk.refTable} that does not exist (constraint ${fk.name}): load the parent row or fix the reference, then retry`,
          })),
        );
      }
    }
    if (!added.ok) for (const l of lifted) await s.query(addConstraintSql(target.schema, l, false));
    await record?.(s, [...removed.values()]);
    return [...removed.values()];
  });
}

/**
 * The foreign keys put back with their validations side by side: added NOT VALID in one transaction (no scan), then
 * each validated in a transaction of its own (`VALIDATE CONSTRAINT` scans its child table; those of other children,
 * even of one parent, run at once), `concurrency` at a time, with the statements `alongside` in the same pool. True
 * when every one validated; false when one found an orphan: they stay NOT VALID, and `restoreForeignKeys` takes them
 * off, removes the orphans and adds them again.
 */
export async function validateForeignKeys(target: TargetConnector, lifted: readonly LiftedForeignKey[], concurrency: number, alongside: readonly string[] = []): Promise<boolean> {
  await target.transaction(async (s) => {
    await dropForeignKeysAgain(s, target.schema, lifted);
    for (const l of lifted) await s.query(addConstraintSql(target.schema, l, true));
  });
  let orphans = false;
  // The validations, then `alongside` (statements of Sensei's own, each alone and taking one table: index builds), in
  // one pool: a statement that needs a table another one holds waits for it, none holds one table and waits for another.
  const slot = slots(concurrency);
  await settleAll([
    ...lifted.map((l) =>
      slot(async () => {
        try {
          await target.query(`ALTER TABLE ${qualified(target.schema, l.table)} VALIDATE CONSTRAINT ${quoteIdent(l.fk.name)}`);
        } catch (e) {
          if ((e as { code?: unknown }).code !== '23503') throw e;
          orphans = true;
        }
      }),
    ),
    ...alongside.map((sql) => slot(() => target.query(sql))),
  ]);
  return !orphans;
}

/**
 * Puts `keys` back in session `s` (one ALTER TABLE each). When one is refused for a duplicate, the rows sharing a key
 * but the first loaded are deleted and returned (to be queued, in the same transaction), and the key is added again.
 */
export async function restoreKeys(s: TargetSession, schema: string, keys: readonly LiftedKey[]): Promise<OrphanRemoval[]> {
  const removed: OrphanRemoval[] = [];
  for (const key of keys) {
    const added = await underSavepoint(s, 'sensei_key', () => s.query(addKeySql(schema, key)));
    if (added.ok) continue;
    if ((added.error as { code?: unknown }).code !== '23505') throw added.error;
    // Rows sharing a key: the first loaded (lowest ctid: the load only appends) stays, the later ones are queued,
    // as a unique violation at write time would have queued them.
    const child = qualified(schema, key.table);
    const cols = key.columns.map((c) => `t.${quoteIdent(c)}`);
    const res = await s.query<{ row: string }>(
      `DELETE FROM ${child} AS c USING (SELECT ctid AS id FROM (SELECT t.ctid, row_number() OVER (PARTITION BY ${cols.join(', ')} ORDER BY t.ctid) AS n FROM ${child} AS t WHERE ${cols.map((c) => `${c} IS NOT NULL`).join(' AND ')}) AS x WHERE x.n > 1) AS d
        WHERE c.ctid = d.id RETURNING row_to_json(c)::text AS row`,
    );
    removed.push({
      table: key.table,
      entries: removedEntries(res.rows, (row) => ({
        column: key.columns.join(','),
        rule: 'unique',
        key: Object.fromEntries(key.primaryKey.map((c) => [c, row[c]])),
        reason: `${key.table} already holds a row with this (${key.columns.join(', ')}) (constraint ${key.name}): deduplicate the source rows or fix the key, then retry`,
      })),
    });
    await s.query(addKeySql(schema, key));
  }
  return removed;
}

/**
 * After a failed load: put every lifted key back that the loaded rows allow, and every lifted FK whose referenced key
 * is there as NOT VALID, which enforces it for new rows without deleting (and so without losing) any row already
 * loaded. `VALIDATE CONSTRAINT` later proves the rest; a resume lifts them all again.
 */
export async function reinstateForeignKeysUnvalidated(target: TargetConnector, lifted: readonly LiftedForeignKey[], keys: readonly LiftedKey[] = []): Promise<void> {
  if (lifted.length === 0 && keys.length === 0) return;
  await target.transaction(async (s) => {
    for (const k of keys) await underSavepoint(s, 'sensei_key', () => s.query(addKeySql(target.schema, k)));
    for (const l of lifted) await underSavepoint(s, 'sensei_fk', () => s.query(addConstraintSql(target.schema, l, true)));
  });
}

const addKeySql = (schema: string, k: LiftedKey): string => `ALTER TABLE ${qualified(schema, k.table)} ADD CONSTRAINT ${quoteIdent(k.name)} ${k.definition}`;

function addConstraintSql(schema: string, { table, fk }: LiftedForeignKey, notValid: boolean): string {
  const definition =
    fk.definition ??
    `FOREIGN KEY (${fk.columns.map(quoteIdent).join(', ')}) REFERENCES ${qualified(schema, fk.refTable)} (${fk.refColumns.map(quoteIdent).join(', ')})`;
  return `ALTER TABLE ${qualified(schema, table)} ADD CONSTRAINT ${quoteIdent(fk.name)} ${definition.replace(/\s+NOT VALID\s*$/i, '')}${notValid ? ' NOT VALID' : ''}`;
}
