// Reads the catalog of a SQLite file from its pragmas: tables, columns (incl. generated), keys, uniques, counts.
import type Database from 'better-sqlite3';
import type { Catalog, ColumnDef, ForeignKey, IndexDef, LogicalType, TableDef, UniqueConstraint } from '../../core/catalog.js';
import { sqliteLogicalType } from './sqlite-types.js';

/** Quote a SQLite identifier with double quotes, doubling embedded double quotes. */
export function quoteSqlite(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

interface XInfoRow {
  cid: number;
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
  /** 0 ordinary, 1 hidden (virtual tables), 2 generated VIRTUAL, 3 generated STORED. */
  hidden: number;
}

interface FkRow {
  id: number;
  seq: number;
  table: string;
  from: string;
  to: string | null;
}

interface IndexRow {
  seq: number;
  name: string;
  unique: number;
  origin: string;
  partial: number;
}

/** The catalog of schema `main` of one SQLite database; `sqlite_*` internal tables, views and virtual tables skipped. */
export class SqliteIntrospector {
  constructor(
    private readonly db: Database.Database,
    private readonly database: string,
  ) {}

  catalog(options: { withCounts?: boolean } = {}): Catalog {
    const tables = this.tableList().map(({ name, wr }) => this.table(name, wr === 1, options.withCounts === true));
    return { dialect: 'sqlite', database: this.database, tables };
  }

  /** Exact `count(*)` of one table. */
  countRows(table: string): number {
    const row = this.db.prepare(`SELECT count(*) FROM main.${quoteSqlite(table)}`).pluck().get() as number;
    return Number(row);
  }

  private tableList(): { name: string; wr: number }[] {
    const rows = this.db
      .prepare(`SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table' ORDER BY name`)
      .all() as { name: string; wr: number }[];
    return rows.filter((r) => !r.name.startsWith('sqlite_'));
  }

  private table(name: string, withoutRowid: boolean, withCounts: boolean): TableDef {
    const info = this.xinfo(name).filter((c) => c.hidden !== 1);
    const pkCols = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
    const primaryKey = pkCols.map((c) => c.name);
    // An INTEGER PRIMARY KEY is the rowid and can never be NULL, although the pragma reports notnull 0; the same for
    // WITHOUT ROWID keys. Other key columns of rowid tables do accept NULL in SQLite.
    const rowidAlias = !withoutRowid && pkCols.length === 1 && pkCols[0]!.type.trim().toUpperCase() === 'INTEGER';
    const columns: ColumnDef[] = info.map((c, i) => ({
      name: c.name,
      declaredType: c.type,
      logicalType: sqliteLogicalType(c.type),
      nullable: c.notnull === 0 && !(c.pk > 0 && (rowidAlias || withoutRowid)),
      defaultValue: c.dflt_value,
      ordinal: i + 1,
      isGenerated: c.hidden === 2 || c.hidden === 3,
      // The rowid alias: SQLite numbers a row inserted without it.
      ...(rowidAlias && c.pk > 0 ? { autoIncrement: true } : {}),
    }));
    this.inferFromData(name, columns);
    return {
      schema: 'main',
      name,
      columns,
      primaryKey,
      foreignKeys: this.foreignKeys(name),
      uniques: this.uniques(name),
      indexes: this.indexes(name),
      rowCount: withCounts ? this.countRows(name) : null,
    };
  }

  /**
   * SQLite columns are dynamically typed: one scan counts the storage classes of every column. A column whose data
   * disagrees with its declared affinity, or mixes classes, gets the type the data says (lossless for every value
   * present) and a note that the plan shows as a warning.
   */
  private inferFromData(table: string, columns: ColumnDef[]): void {
    const plain = columns.filter((c) => !c.isGenerated);
    if (plain.length === 0) return;
    const terms = plain.flatMap((c, i) =>
      STORAGE_CLASSES.map((k) => `sum(typeof(${quoteSqlite(c.name)}) = '${k}') AS "c${i}_${k}"`),
    );
    const counts = this.db.prepare(`SELECT ${terms.join(', ')} FROM main.${quoteSqlite(table)}`).get() as Record<string, number | null>;
    plain.forEach((c, i) => {
      const present = STORAGE_CLASSES.filter((k) => (counts[`c${i}_${k}`] ?? 0) > 0);
      const inferred = inferredType(c.logicalType, present);
      if (inferred === null) return;
      const held = present.map((k) => `${k} ×${counts[`c${i}_${k}`]}`).join(', ');
      const mixed = present.length > 1 ? ' (mixed storage classes)' : '';
      if (c.logicalType.kind === 'unknown') {
        c.notes = [...(c.notes ?? []), `declared ${c.declaredType || 'without a type'}, holds ${held}${mixed}: migrated as ${inferred.kind}, the type the data says`];
        c.logicalType = inferred;
      } else {
        // A declared type is a promise the schema makes: values that break it go to the error queue, not a wider type.
        c.notes = [...(c.notes ?? []), `declared ${c.declaredType}, holds ${held}${mixed}: values that are not ${c.logicalType.kind} go to the error queue`];
      }
    });
  }

  private indexes(table: string): IndexDef[] {
    const list = this.db.prepare(`SELECT * FROM pragma_index_list(?)`).all(table) as IndexRow[];
    const out: IndexDef[] = [];
    for (const ix of list) {
      if (ix.unique === 1 || ix.partial === 1) continue;
      const cols = this.db.prepare(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`).all(ix.name) as { name: string | null }[];
      if (cols.length === 0 || cols.some((c) => c.name === null)) continue;
      out.push({ name: ix.name, columns: cols.map((c) => c.name as string), unique: false });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  private xinfo(table: string): XInfoRow[] {
    return this.db.prepare(`SELECT * FROM pragma_table_xinfo(?) ORDER BY cid`).all(table) as XInfoRow[];
  }

  private foreignKeys(table: string): ForeignKey[] {
    const rows = this.db.prepare(`SELECT * FROM pragma_foreign_key_list(?) ORDER BY id, seq`).all(table) as FkRow[];
    const byId = new Map<number, ForeignKey>();
    for (const r of rows) {
      const fk = byId.get(r.id) ?? { name: '', columns: [], refTable: r.table, refColumns: [] };
      fk.columns.push(r.from);
      if (r.to !== null) fk.refColumns.push(r.to);
      byId.set(r.id, fk);
    }
    const fks = [...byId.values()];
    for (const fk of fks) {
      // `REFERENCES parent` without columns means the parent's primary key.
      if (fk.refColumns.length === 0) {
        fk.refColumns = this.xinfo(fk.refTable)
          .filter((c) => c.pk > 0)
          .sort((a, b) => a.pk - b.pk)
          .map((c) => c.name);
      }
      // SQLite does not report constraint names: name it the way PostgreSQL would.
      fk.name = `${table}_${fk.columns.join('_')}_fkey`;
    }
    return fks;
  }

  private uniques(table: string): UniqueConstraint[] {
    const indexes = this.db.prepare(`SELECT * FROM pragma_index_list(?)`).all(table) as IndexRow[];
    const out: UniqueConstraint[] = [];
    for (const ix of indexes) {
      if (ix.unique !== 1 || ix.origin === 'pk' || ix.partial === 1) continue;
      const cols = this.db
        .prepare(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`)
        .all(ix.name) as { name: string | null }[];
      // An index over expressions is not a column constraint.
      if (cols.length === 0 || cols.some((c) => c.name === null)) continue;
      const columns = cols.map((c) => c.name as string);
      const name = ix.name.startsWith('sqlite_autoindex_') ? `${table}_${columns.join('_')}_key` : ix.name;
      out.push({ name, columns });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }
}

const STORAGE_CLASSES = ['integer', 'real', 'text', 'blob'] as const;
type StorageClass = (typeof STORAGE_CLASSES)[number];

/** Which storage classes a logical type holds without loss; null for kinds that accept any text form. */
const HOLDS: Partial<Record<LogicalType['kind'], StorageClass[]>> = {
  int64: ['integer'],
  boolean: ['integer'],
  float64: ['integer', 'real'],
  decimal: ['integer', 'real'],
  bytes: ['blob'],
};

/**
 * The type the stored classes call for when the declared one cannot hold them all (null when it can): the narrowest
 * logical type that holds every stored value without loss. Text-like declared kinds (text, date, json…) take integers
 * and reals as their text; a blob only fits bytes.
 */
export function inferredType(declared: LogicalType, present: readonly StorageClass[]): LogicalType | null {
  if (present.length === 0) return null;
  const holds = HOLDS[declared.kind];
  const textual = holds === undefined && declared.kind !== 'unknown';
  if (holds ? present.every((k) => holds.includes(k)) : textual ? !present.includes('blob') : false) return null;
  if (present.includes('blob')) return { kind: 'bytes' };
  if (present.includes('text')) return { kind: 'text' };
  if (present.includes('real')) return present.includes('integer') ? { kind: 'decimal' } : { kind: 'float64' };
  return { kind: 'int64' };
}
