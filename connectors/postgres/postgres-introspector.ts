// Reads the catalog of one PostgreSQL schema from pg_catalog: shared by the PostgreSQL source and both targets.
import type { Catalog, ColumnDef, ForeignKey, IndexDef, LogicalType, TableDef, UniqueConstraint } from '../../core/catalog.js';
import { postgresLogicalType } from './postgres-types.js';

/**
 * Runs one statement with `$1…` parameters. Values may arrive as PostgreSQL's text (raw-text parsers) or already
 * parsed by a driver: the introspector accepts both.
 */
export type PostgresQuery = (sql: string, params: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>;

export interface IntrospectPostgresOptions {
  /** Schema whose base tables are read. */
  schema: string;
  /** Written into `Catalog.dialect` (`postgres`, `pglite`). */
  dialect: string;
  /** Written into `Catalog.database`. */
  database: string;
  /** Count the rows of every table exactly (`count(*)`). Default false: `rowCount` is null. */
  withCounts?: boolean;
}

// Ordinary and partitioned tables; partitions are left out because their rows are read through the parent.
const TABLES_SQL = `
SELECT c.relname AS table_name,
  (SELECT json_agg(json_build_object(
            'name', a.attname,
            'type', format_type(a.atttypid, a.atttypmod),
            'notnull', a.attnotnull,
            'default', CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
            'generated', a.attgenerated <> '',
            'identity', a.attidentity <> '',
            'base', CASE WHEN ty.typtype = 'd' THEN format_type(ty.typbasetype, ty.typtypmod) END,
            'labels', CASE WHEN ty.typtype = 'e' THEN
              (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e WHERE e.enumtypid = ty.oid) END
          ) ORDER BY a.attnum)
     FROM pg_catalog.pg_attribute a
     JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
     LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.relname`;

const CONSTRAINTS_SQL = `
SELECT con.conname AS name, con.contype AS kind, cl.relname AS table_name, rcl.relname AS ref_table,
  pg_catalog.pg_get_constraintdef(con.oid) AS definition,
  (SELECT json_agg(a.attname ORDER BY k.i)
     FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, i)
     JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS columns,
  (SELECT json_agg(a.attname ORDER BY k.i)
     FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, i)
     JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS ref_columns
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class cl ON cl.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace
LEFT JOIN pg_catalog.pg_class rcl ON rcl.oid = con.confrelid
WHERE n.nspname = $1 AND con.contype IN ('p', 'f', 'u')
ORDER BY cl.relname, con.conname`;

// Plain, non-unique, non-partial indexes over columns (unique ones are constraints or stay out).
const INDEXES_SQL = `
SELECT cl.relname AS table_name, ic.relname AS name,
  (SELECT json_agg(a.attname ORDER BY k.i) FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, i)
     JOIN pg_catalog.pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum) AS columns
FROM pg_catalog.pg_index ix
JOIN pg_catalog.pg_class cl ON cl.oid = ix.indrelid
JOIN pg_catalog.pg_class ic ON ic.oid = ix.indexrelid
JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace
WHERE n.nspname = $1 AND NOT ix.indisunique AND NOT ix.indisprimary AND ix.indpred IS NULL AND ix.indexprs IS NULL
  AND NOT (0 = ANY (ix.indkey::int2[]))
ORDER BY cl.relname, ic.relname`;

interface RawColumn {
  name: string;
  type: string;
  notnull: boolean;
  default: string | null;
  generated: boolean;
  identity: boolean;
  /** Base type of a domain. */
  base?: string | null;
  /** Labels of an enum type, in sort order. */
  labels?: string[] | null;
}

/** Domains take their base type's logical type; enum types become text limited to their labels; citext is text. */
function logicalTypeOf(c: RawColumn): LogicalType {
  if (c.base) return postgresLogicalType(c.base);
  if (c.labels) return { kind: 'text', values: c.labels };
  if (/^(public\.)?citext$/i.test(c.type)) return { kind: 'text' };
  return postgresLogicalType(c.type);
}

/** The base tables of `options.schema` with columns (in table order), primary key, foreign keys and uniques. */
export async function introspectPostgres(query: PostgresQuery, options: IntrospectPostgresOptions): Promise<Catalog> {
  const { schema } = options;
  const tableRows = (await query(TABLES_SQL, [schema])).rows;
  const constraintRows = (await query(CONSTRAINTS_SQL, [schema])).rows;
  const indexRows = (await query(INDEXES_SQL, [schema])).rows;

  const tables = new Map<string, TableDef>();
  for (const row of tableRows) {
    const name = String(row.table_name);
    const raw = (json(row.columns) ?? []) as RawColumn[];
    const columns: ColumnDef[] = raw.map((c, i) => ({
      name: c.name,
      declaredType: c.type,
      logicalType: logicalTypeOf(c),
      nullable: !c.notnull,
      defaultValue: c.default ?? null,
      ordinal: i + 1,
      isGenerated: c.generated,
      // serial columns (a nextval default) and identity columns both number new rows.
      ...(c.identity || /^nextval\(/i.test(c.default ?? '') ? { autoIncrement: true } : {}),
    }));
    tables.set(name, { schema, name, columns, primaryKey: [], foreignKeys: [], uniques: [], rowCount: null });
  }

  for (const row of constraintRows) {
    const table = tables.get(String(row.table_name));
    if (!table) continue;
    const name = String(row.name);
    const columns = (json(row.columns) ?? []) as string[];
    switch (row.kind) {
      case 'p':
        table.primaryKey = columns;
        break;
      case 'u':
        table.uniques.push({ name, columns } satisfies UniqueConstraint);
        break;
      case 'f':
        table.foreignKeys.push({
          name,
          columns,
          refTable: String(row.ref_table),
          refColumns: (json(row.ref_columns) ?? []) as string[],
          definition: String(row.definition),
        } satisfies ForeignKey);
        break;
    }
  }

  for (const row of indexRows) {
    const table = tables.get(String(row.table_name));
    if (!table) continue;
    const index: IndexDef = { name: String(row.name), columns: (json(row.columns) ?? []) as string[], unique: false };
    table.indexes = [...(table.indexes ?? []), index];
  }

  if (options.withCounts) {
    for (const table of tables.values()) {
      const res = await query(`SELECT count(*) AS n FROM ${quoteIdent(schema)}.${quoteIdent(table.name)}`, []);
      table.rowCount = Number(res.rows[0]?.n ?? 0);
    }
  }

  return { dialect: options.dialect, database: options.database, tables: [...tables.values()] };
}

function json(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
