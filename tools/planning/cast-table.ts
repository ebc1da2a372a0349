// The cast table: which PostgreSQL type a generated target gives each source column, documented and overridable.
import type { ColumnDef } from '../../core/catalog.js';
import { ConfigError } from '../../core/errors.js';
import { checkExpressionSync } from './expression-guard.js';
import { pgTypeFor } from './pg-types.js';

/**
 * Defaults, lossless for every value the source type can hold (the logical type carries the decision, see
 * `pgTypeFor`):
 *
 * | source | PostgreSQL |
 * | --- | --- |
 * | MySQL TINYINT(1) holding only 0/1 | boolean (else smallint) |
 * | MySQL TINYINT, SMALLINT / UNSIGNED | smallint / integer |
 * | MySQL INT UNSIGNED, BIGINT / BIGINT UNSIGNED | bigint / numeric(20,0) |
 * | MySQL DECIMAL(p,s) | numeric(p,s) (up to 65,30) |
 * | MySQL FLOAT / DOUBLE | real / double precision |
 * | MySQL BIT(n) | bit(n) |
 * | MySQL YEAR | smallint |
 * | MySQL DATE / DATETIME(n) / TIMESTAMP | date / timestamp / timestamptz (read in UTC) |
 * | MySQL TIME (−838:59:59 … 838:59:59) | interval |
 * | MySQL ENUM | varchar(longest) + CHECK (col IN members) |
 * | MySQL SET | varchar(longest combination) + CHECK (every comma-separated part is a member) |
 * | MySQL JSON | jsonb |
 * | MySQL spatial types | text (WKT) |
 * | MySQL BINARY / VARBINARY / BLOB | bytea |
 * | PostgreSQL built-in types (arrays, inet, money, …) | the same type |
 * | PostgreSQL enum type | text + CHECK (col IN labels) |
 * | PostgreSQL domain | its base type |
 * | PostgreSQL citext | text (override with `citext: citext` when the target has the extension) |
 * | SQLite column by affinity, or by its data when the data disagrees | see sqlite-types.ts / sqlite-introspector.ts |
 *
 * Overrides (config `casts:`) are keyed by `table.column` or by the declared source type, case-insensitively, e.g.
 * `{ "tinyint(1)": "smallint", "time": "time", "orders.note": "text" }`; a declared-type key without parameters
 * (`decimal`) matches every parameterisation (`decimal(10,2)`).
 */
export type CastOverrides = Readonly<Record<string, string>>;

/** Built-in PostgreSQL types a PostgreSQL source column keeps verbatim when its logical type has no counterpart. */
const PG_KEEP = /^(smallint|integer|bigint|numeric(\(\d+,\d+\))?|real|double precision|boolean|text|character varying(\(\d+\))?|character(\(\d+\))?|date|time.*|interval.*|bytea|jsonb?|uuid|inet|cidr|macaddr8?|money|xml|point|line|lseg|box|path|polygon|circle|tsvector|tsquery|bit( varying)?(\(\d+\))?|int4range|int8range|numrange|daterange|tsrange|tstzrange)(\[\])*$/;

/** The PostgreSQL type of a generated target column. Throws ConfigError when an override is not an allowed type. */
export function castFor(dialect: string, table: string, column: ColumnDef, overrides: CastOverrides = {}): string {
  const override = findOverride(table, column, overrides);
  if (override !== undefined) return checkedType(override, `casts.${override}`);
  if (column.logicalType.kind === 'unknown' && (dialect === 'postgres' || dialect === 'pglite') && PG_KEEP.test(column.declaredType)) {
    return column.declaredType;
  }
  return pgTypeFor(column.logicalType);
}

function findOverride(table: string, column: ColumnDef, overrides: CastOverrides): string | undefined {
  const entries = Object.entries(overrides).map(([k, v]) => [k.trim().toLowerCase(), v.trim()] as const);
  const byColumn = entries.find(([k]) => k === `${table}.${column.name}`.toLowerCase());
  if (byColumn) return byColumn[1];
  const declared = column.declaredType.trim().toLowerCase();
  const exact = entries.find(([k]) => k === declared);
  if (exact) return exact[1];
  const base = /^[a-z0-9_ ]+?(?=\s*\(|\s+unsigned|$)/.exec(declared)?.[0]?.trim();
  return entries.find(([k]) => !k.includes('(') && !k.includes('.') && k === base)?.[1];
}

/** An override comes from configuration: it must parse as a type PostgreSQL's parser accepts in an allowed CAST. */
function checkedType(type: string, where: string): string {
  const check = checkExpressionSync(`CAST(NULL AS ${type})`, { allowedColumns: [] });
  if (!check.ok) {
    throw new ConfigError(`cast override ${where}: "${type}" is not an allowed PostgreSQL type (${check.reason})`, {
      hint: 'use a built-in type such as boolean, smallint, numeric(20,0), text, interval or citext',
    });
  }
  return type;
}
