// A PostgreSQL target schema generated from a source catalog: faithful types, keys and constraints.
import type { Catalog, TableDef } from '../../core/catalog.js';
import { qualified, quoteIdent, snakeCase } from './identifiers.js';
import { pgTypeFor } from './pg-types.js';

export interface GeneratedSchema {
  /** The target as it will be once the DDL ran: planning maps onto it like onto any existing target. */
  catalog: Catalog;
  /** CREATE TABLE statements (with PK and UNIQUE), then one ALTER TABLE … ADD FOREIGN KEY per FK. */
  ddl: string[];
}

/**
 * Names become snake_case (`AlbumId` → `album_id`, as PostgreSQL users expect and pgloader does by default) unless two
 * names of one table or schema would collide, in which case the source names are kept verbatim.
 */
export function generateTargetSchema(source: Catalog, schema: string): GeneratedSchema {
  const tableNames = uniqueNames(source.tables.map((t) => t.name));
  const tables: TableDef[] = source.tables.map((t) => {
    const colNames = uniqueNames(t.columns.filter((c) => !c.isGenerated).map((c) => c.name));
    const rename = (c: string): string => colNames.get(c) ?? c;
    return {
      schema,
      name: tableNames.get(t.name)!,
      columns: t.columns
        .filter((c) => !c.isGenerated)
        .map((c, i) => ({
          name: rename(c.name),
          declaredType: pgTypeFor(c.logicalType),
          logicalType: c.logicalType,
          nullable: c.nullable,
          defaultValue: null,
          ordinal: i + 1,
          isGenerated: false,
        })),
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
      rowCount: 0,
    };
  });
  const ddl: string[] = [];
  for (const t of tables) {
    const parts = t.columns.map((c) => `${quoteIdent(c.name)} ${c.declaredType}${c.nullable ? '' : ' NOT NULL'}`);
    if (t.primaryKey.length > 0) parts.push(`PRIMARY KEY (${t.primaryKey.map(quoteIdent).join(', ')})`);
    for (const u of t.uniques) parts.push(`UNIQUE (${u.columns.map(quoteIdent).join(', ')})`);
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
  return { catalog: { dialect: 'postgres', database: schema, tables }, ddl };
}

function uniqueNames(names: string[]): Map<string, string> {
  const snake = names.map(snakeCase);
  const collide = new Set(snake).size !== snake.length;
  return new Map(names.map((n, i) => [n, collide ? n : snake[i]!]));
}
