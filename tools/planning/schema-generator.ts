// A PostgreSQL target schema generated from a source catalog: faithful types, keys and constraints.
import type { Catalog, ColumnDef, TableDef } from '../../core/catalog.js';
import { invalidDateReason } from '../../connectors/source-options.js';
import { castFor, type CastOverrides } from './cast-table.js';
import { qualified, quoteIdent, quoteLiteral, snakeCase } from './identifiers.js';

export interface GeneratedSchema {
  /** The target as it will be once the DDL ran: planning maps onto it like onto any existing target. */
  catalog: Catalog;
  /** CREATE TABLE statements (with PK, UNIQUE, NOT NULL, CHECK for enums, defaults), then one ALTER TABLE … ADD FOREIGN KEY per FK. */
  ddl: string[];
  /** CREATE INDEX for the source's non-unique indexes: run after the load. */
  postLoadDdl: string[];
  /** Source defaults that could not be carried over, and similar notes for the plan. */
  warnings: string[];
}

export interface GenerateSchemaOptions {
  /** Overrides of the cast table (config `casts:`). Default none. */
  casts?: CastOverrides;
}

/**
 * Names become snake_case (`AlbumId` → `album_id`, as PostgreSQL users expect and pgloader does by default) unless two
 * names of one table or schema would collide, in which case the source names are kept verbatim.
 */
export function generateTargetSchema(source: Catalog, schema: string, options: GenerateSchemaOptions = {}): GeneratedSchema {
  const tableNames = uniqueNames(source.tables.map((t) => t.name));
  const warnings: string[] = [];
  const checks = new Map<string, string[]>();
  const tables: TableDef[] = source.tables.map((t) => {
    const colNames = uniqueNames(t.columns.filter((c) => !c.isGenerated).map((c) => c.name));
    const rename = (c: string): string => colNames.get(c) ?? c;
    return {
      schema,
      name: tableNames.get(t.name)!,
      columns: t.columns
        .filter((c) => !c.isGenerated)
        .map((c, i) => {
          const declaredType = castFor(source.dialect, t.name, c, options.casts);
          const check = memberCheck(quoteIdent(rename(c.name)), c, declaredType);
          if (check !== null) checks.set(t.name, [...(checks.get(t.name) ?? []), check]);
          const defaultValue = c.defaultValue === null ? null : pgDefault(c, declaredType);
          if (c.defaultValue !== null && defaultValue === null) {
            warnings.push(`default of ${t.name}.${c.name} is not carried over (only literals and the current timestamp are): set it on the target if it is needed`);
          }
          return {
            name: rename(c.name),
            declaredType,
            logicalType: c.logicalType,
            nullable: c.nullable,
            defaultValue,
            ordinal: i + 1,
            isGenerated: false,
          };
        }),
      primaryKey: t.primaryKey.map(rename),
      foreignKeys: t.foreignKeys
        .filter((fk) => tableNames.has(fk.refTable))
        .map((fk) => {
          const parent = source.tables.find((p) => p.name === fk.refTable)!;
          const parentCols = uniqueNames(parent.columns.filter((c) => !c.isGenerated).map((c) => c.name));
          return {
            name: snakeCase(`fk_${tableNames.get(t.name)}_${fk.columns.map(rename).join('_')}`).slice(0, 63),
            columns: fk.columns.map(rename),
            refTable: tableNames.get(fk.refTable)!,
            refColumns: fk.refColumns.map((c) => parentCols.get(c) ?? c),
          };
        }),
      uniques: t.uniques.map((u) => ({ name: u.name, columns: u.columns.map(rename) })),
      indexes: (t.indexes ?? [])
        .filter((ix) => ix.columns.every((c) => colNames.has(c)))
        .map((ix) => ({ name: snakeCase(`ix_${tableNames.get(t.name)}_${ix.columns.map(rename).join('_')}`).slice(0, 63), columns: ix.columns.map(rename), unique: false })),
      rowCount: 0,
    };
  });
  const ddl: string[] = [];
  for (const t of tables) {
    const parts = t.columns.map(
      (c) => `${quoteIdent(c.name)} ${c.declaredType}${c.nullable ? '' : ' NOT NULL'}${c.defaultValue === null ? '' : ` DEFAULT ${c.defaultValue}`}`,
    );
    if (t.primaryKey.length > 0) parts.push(`PRIMARY KEY (${t.primaryKey.map(quoteIdent).join(', ')})`);
    for (const u of t.uniques) parts.push(`UNIQUE (${u.columns.map(quoteIdent).join(', ')})`);
    const src = source.tables[tables.indexOf(t)]!;
    parts.push(...(checks.get(src.name) ?? []));
    ddl.push(`CREATE TABLE ${qualified(schema, t.name)} (\n  ${parts.join(',\n  ')}\n)`);
  }
  for (const t of tables)
    for (const fk of t.foreignKeys) {
      ddl.push(
        `ALTER TABLE ${qualified(schema, t.name)} ADD CONSTRAINT ${quoteIdent(fk.name)} FOREIGN KEY (${fk.columns
          .map(quoteIdent)
          .join(', ')}) REFERENCES ${qualified(schema, fk.refTable)} (${fk.refColumns.map(quoteIdent).join(', ')})`,
      );
    }
  const postLoadDdl = tables.flatMap((t) =>
    (t.indexes ?? []).map((ix) => `CREATE INDEX IF NOT EXISTS ${quoteIdent(ix.name)} ON ${qualified(schema, t.name)} (${ix.columns.map(quoteIdent).join(', ')})`),
  );
  return { catalog: { dialect: 'postgres', database: schema, tables }, ddl, postLoadDdl, warnings };
}

/**
 * The CHECK that keeps a text column to its declared members: `IN (…)` for an enum; for a SET, every comma-separated
 * part of the value is a member (the empty set is ''). Null when the column has no members or was cast to a non-text
 * type (an override such as a PostgreSQL enum type already constrains it).
 */
function memberCheck(col: string, c: ColumnDef, pgType: string): string | null {
  if (!/^(text|character)/.test(pgType)) return null;
  const { values, setMembers } = c.logicalType;
  if (values && values.length > 0) return `CHECK (${col} IN (${values.map(quoteLiteral).join(', ')}))`;
  if (setMembers && setMembers.length > 0) {
    return `CHECK (${col} = '' OR string_to_array(${col}, ',') <@ ARRAY[${setMembers.map(quoteLiteral).join(', ')}]::text[])`;
  }
  return null;
}

/**
 * A source default as a PostgreSQL default, or null when it is not a plain literal. Literals are re-quoted by Sensei
 * (never pasted), so a default cannot smuggle SQL in; `CURRENT_TIMESTAMP`/`now()` become `CURRENT_TIMESTAMP`.
 */
function pgDefault(c: ColumnDef, pgType: string): string | null {
  const d = (c.defaultValue ?? '').trim();
  if (d === '' || /^null$/i.test(d)) return null;
  if (/^(current_timestamp|now)(\(\d*\))?$/i.test(d) && /^timestamp/.test(pgType)) return 'CURRENT_TIMESTAMP';
  const num = /^\(?'?(-?\d+(\.\d+)?)'?\)?(::[a-z ]+)?$/i.exec(d);
  if (num && /^(smallint|integer|bigint|numeric|real|double)/.test(pgType)) return num[1]!;
  if (pgType === 'boolean' && /^'?[01]'?$/.test(d)) return d.includes('1') ? 'true' : 'false';
  if (pgType === 'boolean' && /^(true|false)$/i.test(d)) return d.toLowerCase();
  // 'text' as MariaDB and SQLite print it, or 'text'::type as PostgreSQL does.
  const str = /^'((?:[^'\\]|''|\\.)*)'(::[a-z ]+(\(\d+\))?)?$/is.exec(d);
  if (str && /^(text|character|date|time|interval|uuid|json)/.test(pgType)) {
    const value = str[1]!.replace(/''/g, "'").replace(/\\(.)/gs, '$1');
    if (/^(date|timestamp)/.test(pgType) && invalidDateReason(value) !== null) return null;
    return `${quoteLiteral(value)}::${pgType}`;
  }
  return null;
}

function uniqueNames(names: string[]): Map<string, string> {
  const snake = names.map(snakeCase);
  const collide = new Set(snake).size !== snake.length;
  return new Map(names.map((n, i) => [n, collide ? n : snake[i]!]));
}
