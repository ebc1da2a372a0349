// Reads the catalog of one MySQL/MariaDB database from information_schema: tables, columns, keys, uniques, counts.
import type { Catalog, ColumnDef, ForeignKey, IndexDef, TableDef, UniqueConstraint } from '../../core/catalog.js';
import { isSpatialType, mysqlLogicalType } from './mysql-types.js';
import { repairsDoubleEncoding, type DoubleEncodingPolicy } from '../source-options.js';
import { classifyDoubleEncoding, DOUBLE_ENCODED_MARK_PCRE } from '../text-encoding.js';

/** Runs one statement and returns its rows as objects; the caller maps driver errors to Sensei errors. */
export type MysqlQuery = <R>(sql: string, params?: unknown[]) => Promise<R[]>;

/** Quote a MySQL identifier with backticks, doubling embedded backticks. */
export function quoteMysql(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

interface ColumnRow {
  t: string;
  c: string;
  pos: number | string;
  ct: string;
  n: string;
  d: string | null;
  x: string;
  cs: string | null;
  co: string | null;
}

interface IndexRow {
  t: string;
  name: string;
  col: string | null;
  sub: number | string | null;
}

interface ConstraintRow {
  t: string;
  name: string;
  type: 'PRIMARY KEY' | 'UNIQUE' | 'FOREIGN KEY';
  col: string;
  rs: string | null;
  rt: string | null;
  rc: string | null;
}

/** The catalog of the database the connection points at. Only BASE TABLEs; views are not data to migrate. */
export class MysqlIntrospector {
  constructor(
    private readonly query: MysqlQuery,
    private readonly database: string,
    private readonly doubleEncoding: DoubleEncodingPolicy = 'report',
  ) {}

  async catalog(options: { withCounts?: boolean } = {}): Promise<Catalog> {
    const db = this.database;
    const tableRows = await this.query<{ t: string }>(
      `SELECT TABLE_NAME AS t FROM information_schema.TABLES
        WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`,
      [db],
    );
    const columnRows = await this.query<ColumnRow>(
      `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, ORDINAL_POSITION AS pos, COLUMN_TYPE AS ct, IS_NULLABLE AS n,
              COLUMN_DEFAULT AS d, EXTRA AS x, CHARACTER_SET_NAME AS cs, COLLATION_NAME AS co
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`,
      [db],
    );
    const constraintRows = await this.query<ConstraintRow>(
      `SELECT tc.TABLE_NAME AS t, tc.CONSTRAINT_NAME AS name, tc.CONSTRAINT_TYPE AS type, k.COLUMN_NAME AS col,
              k.REFERENCED_TABLE_SCHEMA AS rs, k.REFERENCED_TABLE_NAME AS rt, k.REFERENCED_COLUMN_NAME AS rc
         FROM information_schema.TABLE_CONSTRAINTS tc
         JOIN information_schema.KEY_COLUMN_USAGE k
           ON k.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND k.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
          AND k.TABLE_SCHEMA = tc.TABLE_SCHEMA AND k.TABLE_NAME = tc.TABLE_NAME
        WHERE tc.TABLE_SCHEMA = ? AND tc.CONSTRAINT_TYPE IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')
        ORDER BY tc.TABLE_NAME, tc.CONSTRAINT_NAME, k.ORDINAL_POSITION`,
      [db],
    );
    const jsonColumns = await this.jsonCheckedColumns();
    const indexRows = await this.query<IndexRow>(
      `SELECT TABLE_NAME AS t, INDEX_NAME AS name, COLUMN_NAME AS col, SUB_PART AS sub FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = ? AND NON_UNIQUE = 1 ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
      [db],
    );

    const tables: TableDef[] = [];
    for (const { t } of tableRows) {
      const columns: ColumnDef[] = columnRows
        .filter((r) => r.t === t)
        .map((r) => ({
          name: r.c,
          declaredType: r.ct,
          logicalType: mysqlLogicalType(r.ct, { isJson: jsonColumns.has(`${t}\u0000${r.c}`) }),
          nullable: r.n === 'YES',
          // MariaDB prints the default as an SQL expression, so an unquoted NULL means "no default".
          defaultValue: r.d === 'NULL' ? null : r.d,
          ordinal: Number(r.pos),
          isGenerated: /GENERATED|VIRTUAL|STORED|PERSISTENT/i.test(r.x),
          ...(/auto_increment/i.test(r.x) ? { autoIncrement: true } : {}),
          ...encodingOf(r.cs),
          ...(r.co ? { collation: r.co } : {}),
          // PostgreSQL has no ON UPDATE for a column: it would take a trigger, which Sensei does not write.
          ...(/on update/i.test(r.x) ? { notes: ['ON UPDATE CURRENT_TIMESTAMP is not carried over: the target column keeps only its default'] } : {}),
        }));
      for (const c of columns) {
        if (/^tinyint\(1\)/i.test(c.declaredType) && !c.isGenerated && (await this.onlyZeroOrOne(t, c.name))) {
          c.logicalType = { kind: 'boolean' };
          c.notes = [...(c.notes ?? []), 'TINYINT(1) holding only 0 and 1: migrated as boolean'];
        }
      }
      await this.noteDoubleEncoding(t, columns);
      const mine = constraintRows.filter((r) => r.t === t);
      tables.push({
        schema: db,
        name: t,
        columns,
        primaryKey: mine.filter((r) => r.type === 'PRIMARY KEY').map((r) => r.col),
        foreignKeys: groupForeignKeys(mine.filter((r) => r.type === 'FOREIGN KEY' && r.rs === db)),
        uniques: groupUniques(mine.filter((r) => r.type === 'UNIQUE')),
        indexes: groupIndexes(indexRows.filter((r) => r.t === t)),
        rowCount: options.withCounts ? await this.countRows(t) : null,
      });
    }
    return { dialect: 'mysql', database: db, tables };
  }

  /** Exact `COUNT(*)` of one table. */
  async countRows(table: string): Promise<number> {
    const rows = await this.query<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM ${quoteMysql(this.database)}.${quoteMysql(table)}`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** True when the column holds no value other than 0, 1 and NULL (an empty table counts). */
  private async onlyZeroOrOne(table: string, column: string): Promise<boolean> {
    const c = quoteMysql(column);
    const rows = await this.query<{ bad: number | string }>(
      `SELECT EXISTS (SELECT 1 FROM ${quoteMysql(this.database)}.${quoteMysql(table)} WHERE ${c} NOT IN (0, 1)) AS bad`,
    );
    return Number(rows[0]?.bad ?? 1) === 0;
  }

  /**
   * Counts, per text column, the values that look double-encoded (UTF-8 stored through a latin1 connection) and notes
   * them on the column, saying what the load will do. Only values with the mark leave the server (a REGEXP filters
   * them); the decision is `classifyDoubleEncoding`'s, the same the reader applies.
   */
  private async noteDoubleEncoding(table: string, columns: ColumnDef[]): Promise<void> {
    const text = columns.filter(isPlainText);
    if (text.length === 0) return;
    // Binary collation: a case-insensitive REGEXP would match more than the mark (ÿ for Ÿ).
    const marked = text.map((c) => `CONVERT(${quoteMysql(c.name)} USING utf8mb4) COLLATE utf8mb4_bin REGEXP ?`);
    let rows: Record<string, string | null>[];
    try {
      rows = await this.query<Record<string, string | null>>(
        `SELECT ${text.map((c, i) => `CASE WHEN ${marked[i]} THEN ${quoteMysql(c.name)} END AS ${quoteMysql(`c${i}`)}`).join(', ')}
           FROM ${quoteMysql(this.database)}.${quoteMysql(table)} WHERE ${marked.join(' OR ')}`,
        text.map(() => DOUBLE_ENCODED_MARK_PCRE).concat(text.map(() => DOUBLE_ENCODED_MARK_PCRE)),
      );
    } catch (e) {
      const cause = ((e as { cause?: unknown }).cause ?? e) as { code?: string; errno?: number };
      if (!/REGEXP/i.test(cause.code ?? '') && cause.errno !== 1139) throw e;
      // A server whose REGEXP lacks \x{…} escapes (MySQL before 8.0): say the check did not run rather than fail the catalog.
      for (const c of text) c.notes = [...(c.notes ?? []), 'not checked for double-encoded UTF-8: the server could not run the check (REGEXP with \\x{…} escapes needs MariaDB 10.0.5+ or MySQL 8.0+)'];
      return;
    }
    if (rows.length === 0) return;
    text.forEach((c, i) => {
      let double = 0;
      let broken = 0;
      for (const row of rows) {
        const v = row[`c${i}`];
        if (typeof v !== 'string') continue;
        const kind = classifyDoubleEncoding(v).kind;
        if (kind === 'double') double++;
        else if (kind === 'broken') broken++;
      }
      if (double + broken === 0) return;
      const repair = repairsDoubleEncoding(this.doubleEncoding, table, c.name);
      const found = `${double} value(s) look double-encoded (UTF-8 stored through a latin1 connection, e.g. "Ã©" for "é")`;
      const odd = broken > 0 ? `; ${broken} more have that mark but are not cp1252-encoded UTF-8` : '';
      c.notes = [
        ...(c.notes ?? []),
        repair
          ? `${found}: each is repaired on load and listed as a repair${odd}${broken > 0 ? ': those go to the error queue (rule double_encoding)' : ''}`
          : `${found}${odd}: loaded unchanged; set double_encoding: repair (or list "${table}.${c.name}") in the configuration to repair them`,
      ];
    });
  }

  /**
   * Columns MariaDB declares as JSON: it stores them as LONGTEXT with a `json_valid(col)` check. MySQL has a real
   * JSON type and no TABLE_NAME in CHECK_CONSTRAINTS, so the lookup is skipped there.
   */
  private async jsonCheckedColumns(): Promise<Set<string>> {
    const hasTableName = await this.query<{ c: string }>(
      `SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = 'information_schema' AND TABLE_NAME = 'CHECK_CONSTRAINTS' AND COLUMN_NAME = 'TABLE_NAME'`,
    );
    const out = new Set<string>();
    if (hasTableName.length === 0) return out;
    const checks = await this.query<{ t: string; clause: string }>(
      `SELECT TABLE_NAME AS t, CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ?`,
      [this.database],
    );
    for (const { t, clause } of checks) {
      const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(clause.trim());
      if (m?.[1] !== undefined) out.add(`${t}\u0000${m[1].replace(/``/g, '`')}`);
    }
    return out;
  }
}

/** A character column whose values are free text (not ENUM/SET members, not JSON). */
export function isPlainText(c: ColumnDef): boolean {
  return ['char', 'varchar', 'text'].includes(c.logicalType.kind) && !c.isGenerated && !/^(enum|set)\s*\(/i.test(c.declaredType) && !/^(inet[46]|uuid)$/i.test(c.declaredType) && !isSpatialType(c.declaredType);
}

function groupForeignKeys(rows: ConstraintRow[]): ForeignKey[] {
  const byName = new Map<string, ForeignKey>();
  for (const r of rows) {
    const fk = byName.get(r.name) ?? { name: r.name, columns: [], refTable: r.rt ?? '', refColumns: [] };
    fk.columns.push(r.col);
    fk.refColumns.push(r.rc ?? '');
    byName.set(r.name, fk);
  }
  return [...byName.values()];
}

function groupUniques(rows: ConstraintRow[]): UniqueConstraint[] {
  const byName = new Map<string, UniqueConstraint>();
  for (const r of rows) {
    const u = byName.get(r.name) ?? { name: r.name, columns: [] };
    u.columns.push(r.col);
    byName.set(r.name, u);
  }
  return [...byName.values()];
}

/** MySQL's latin1 is Windows-1252 (0x80 is €), and the server converts it as such: say so in the batch metadata. */
function encodingOf(charset: string | null): { encoding?: string } {
  if (charset === null || /^utf8/i.test(charset) || charset === 'binary') return {};
  return { encoding: charset.toLowerCase() === 'latin1' ? 'cp1252' : charset.toLowerCase() };
}

/** Non-unique indexes; one with a prefix part or an expression has no PostgreSQL equivalent and is left out. */
function groupIndexes(rows: IndexRow[]): IndexDef[] {
  const byName = new Map<string, { def: IndexDef; usable: boolean }>();
  for (const r of rows) {
    const e = byName.get(r.name) ?? { def: { name: r.name, columns: [], unique: false }, usable: true };
    if (r.col === null || r.sub !== null) e.usable = false;
    else e.def.columns.push(r.col);
    byName.set(r.name, e);
  }
  return [...byName.values()].filter((e) => e.usable).map((e) => e.def);
}
